"""``python -m offer_analytics``: the command line."""

from offer_analytics.cli import main

if __name__ == "__main__":  # imported (by doctest collection, say), it runs nothing
    main()
