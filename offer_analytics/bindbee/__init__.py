"""One request to the Bindbee API: client, auth, credentials, retries, the rate gate, errors.

- :class:`BindbeeClient`: one pooled ``httpx.AsyncClient`` for many connectors; every request
  passes its connector's rate gate and the retry policy, and comes back as bytes or a typed error.
- :class:`RetryPolicy`: how often and how long failed requests are retried.

The parts, one private module each: ``_client`` (the request path), ``_auth`` (headers from
sealed secrets), ``_credentials`` (keys, tokens and the base URL from arguments or the
environment), ``_retry`` (what is retried), ``_rate_gate`` and ``_rate_headers`` (the per-connector
budget and the ``X-RateLimit-*`` headers it reads), ``_status_errors`` (HTTP status -> the
package's error with advice).
"""

from offer_analytics.bindbee._client import BindbeeClient
from offer_analytics.bindbee._retry import RetryPolicy

__all__ = ["BindbeeClient", "RetryPolicy"]
