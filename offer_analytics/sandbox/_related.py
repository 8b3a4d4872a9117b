"""Seeded ATS objects around the offers: applications, jobs, departments, offices and users.

The offers name only an application and a creator. Bindbee's ATS API lists what those lead to
(``/applications``, ``/jobs``, ``/departments``, ``/offices``, ``/users``), and so does the
sandbox, from data drawn here, per connector, from the offers it serves. Every draw is made for a
whole table at once with NumPy; a seed gives the same objects, and the offers' own draws are
untouched (the related tables use a random stream of their own).

What the data looks like:

- one job per ~8 applications; job titles and codes per department; ~60% of jobs OPEN;
- departments of very different sizes (jobs are assigned with Zipf-like weights), and ~4% of
  jobs belong to two departments (the first is the job's home department);
- offices likewise skewed; ~3% of jobs have no office;
- recruiters are offer creators, chosen with very unequal weights (a few recruiters carry most
  of the jobs); ~5% of jobs have no recruiter, ~5% have two; every job has a hiring manager;
- dangling references, as real ATS syncs have them: ~0.5% of applications named by offers do not
  exist, and ~0.5% of applications name a job that does not exist.

:meth:`RelatedData.resolve` is the ground truth of enrichment: what each offer resolves to,
computed by walking the objects in plain Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from offer_analytics.sandbox._generator import today_utc, uuids

__all__ = ["RESOURCES", "RelatedData", "RelatedRates", "generate_related"]

#: The related resources, in the order a client resolves them.
RESOURCES: Final = ("applications", "jobs", "departments", "offices", "users")

_DEPARTMENTS: Final = (
    "Engineering",
    "Sales",
    "Customer Success",
    "Marketing",
    "Product",
    "Operations",
    "Finance",
    "People",
    "Design",
    "Data",
    "Security",
    "Legal",
)
_OFFICES: Final = (
    "Berlin",
    "London",
    "New York",
    "Remote",
    "San Francisco",
    "Toronto",
    "Paris",
    "Singapore",
    "Austin",
    "Dublin",
)
_TITLES: Final = ("Engineer", "Manager", "Specialist", "Analyst", "Lead", "Associate")
_LEVELS: Final = ("", "Senior ", "Staff ", "Junior ", "Principal ")
_FIRST: Final = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Linus", "Frances")
_LAST: Final = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Perlman")
_STAGES: Final = ("Application Review", "Phone Screen", "Onsite", "Offer", "Hired")
_SOURCES: Final = ("LinkedIn", "Referral", "Company Website", "Agency", "Job Board")
_ROLES: Final = ("SUPER_ADMIN", "ADMIN", "TEAM_MEMBER", "INTERVIEWER")
_US_PER_DAY: Final = 86_400_000_000
#: Mixed into the seed: the related tables draw from a stream the offers never touch.
_STREAM: Final = 0x5E1A7ED

Array = npt.NDArray[Any]
Record = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class RelatedRates:
    """Rates of the related data's behaviours (see the module docstring)."""

    applications_per_job: float = 8.0
    two_departments: float = 0.04
    no_office: float = 0.03
    no_recruiter: float = 0.05
    two_recruiters: float = 0.05
    missing_application: float = 0.005
    missing_job: float = 0.005


@dataclass(frozen=True)
class RelatedData:
    """One connector's related objects, each table as the API lists it, in id order of creation.

    Attributes
    ----------
    applications, jobs, departments, offices, users
        API-shaped dicts of each resource.
    """

    applications: list[Record]
    jobs: list[Record]
    departments: list[Record]
    offices: list[Record]
    users: list[Record]
    _by_id: dict[str, dict[str, Record]] = field(default_factory=dict, repr=False, compare=False)

    def table(self, resource: str) -> list[Record]:
        """The records of one resource (a name of :data:`RESOURCES`)."""
        records: list[Record] = getattr(self, resource)
        return records

    def find(self, resource: str, object_id: str | None) -> Record | None:
        """The record of ``resource`` with this id, or None."""
        if object_id is None:
            return None
        index = self._by_id.get(resource)
        if index is None:
            index = self._by_id[resource] = {r["id"]: r for r in self.table(resource)}
        return index.get(object_id)

    def resolve(self, offer: Mapping[str, Any]) -> dict[str, Any]:
        """What an offer resolves to: the ground truth of enrichment.

        The offer's application gives its job; the job's first department and office give
        ``department`` and ``office`` (``departments`` lists every department name); the
        recruiter is the job's first recruiter, or the offer's creator when the job has none.
        Whatever cannot be found is None; an offer whose job is unknown resolves to nothing
        (not even a recruiter).
        """
        app = self.find("applications", offer.get("application"))
        job = self.find("jobs", app["job"] if app else None)
        out: dict[str, Any] = dict.fromkeys(
            ("job_id", "job", "department_id", "department", "office_id", "office"), None
        )
        out.update(recruiter_id=None, recruiter=None, departments=None)
        if job is None:
            return out
        departments = [self.find("departments", d) for d in job["departments"]]
        office = self.find("offices", job["offices"][0]) if job["offices"] else None
        first = departments[0] if departments else None
        recruiter_id = job["recruiters"][0] if job["recruiters"] else offer.get("creator")
        recruiter = self.find("users", recruiter_id)
        out.update(
            job_id=job["id"],
            job=job["name"],
            department_id=first["id"] if first else None,
            department=first["name"] if first else None,
            departments=[d["name"] for d in departments if d is not None],
            office_id=office["id"] if office else None,
            office=office["name"] if office else None,
            recruiter_id=recruiter["id"] if recruiter else None,
            recruiter=recruiter["name"] if recruiter else None,
        )
        return out


def _stamps(rng: np.random.Generator, n: int, end: date, days: float) -> list[str]:
    """``modified_at`` values within ``days`` before ``end``, as Bindbee writes them."""
    end_us = int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp() * 1_000_000)
    micros = end_us - (rng.random(n) * days * _US_PER_DAY).astype(np.int64)
    text: list[str] = np.datetime_as_string(micros.astype("datetime64[us]"), unit="ms").tolist()
    return [s + "Z" for s in text]


def _skewed(rng: np.random.Generator, k: int, n: int, power: float) -> Array:
    """``n`` draws of 0..k-1 with Zipf-like weights 1/(i+1)^power: very unequal sizes."""
    weights = 1.0 / np.arange(1, k + 1) ** power
    return rng.choice(k, size=n, p=weights / weights.sum())


def _distinct(values: Iterable[object]) -> list[str]:
    seen = dict.fromkeys(values)
    seen.pop(None, None)
    return [v for v in seen if isinstance(v, str)]


def _named(prefix: str, names: Sequence[str], k: int) -> list[str]:
    return [names[i] if i < len(names) else f"{prefix} {i + 1}" for i in range(k)]


def _users(rng: np.random.Generator, ids: list[str], end: date) -> list[Record]:
    n = len(ids)
    first = rng.integers(0, len(_FIRST), n)
    last = rng.integers(0, len(_LAST), n)
    role = rng.integers(0, len(_ROLES), n)
    remote = rng.integers(1_000_000, 9_999_999, n)
    stamps = _stamps(rng, n, end, 400)
    users = []
    for i, user_id in enumerate(ids):
        f, la = _FIRST[first[i]], _LAST[last[i]]
        username = f"{f}.{la}{i}".lower()
        users.append(
            {
                "id": user_id,
                "remote_id": str(int(remote[i])),
                "name": f"{f} {la}",
                "first_name": f,
                "last_name": la,
                "username": username,
                "email": f"{username}@example.com",
                "access_role": _ROLES[role[i]],
                "modified_at": stamps[i],
            }
        )
    return users


def _named_objects(rng: np.random.Generator, names: list[str], end: date) -> list[Record]:
    ids = uuids(rng, len(names))
    stamps = _stamps(rng, len(names), end, 900)
    remote = rng.integers(10_000, 99_999, len(names))
    return [
        {"id": ids[i], "remote_id": str(int(remote[i])), "name": name, "modified_at": stamps[i]}
        for i, name in enumerate(names)
    ]


@dataclass(frozen=True)
class _People:
    recruiters: list[str]
    managers: list[str]


def _jobs(
    rng: np.random.Generator,
    n_jobs: int,
    departments: list[Record],
    offices: list[Record],
    people: _People,
    rates: RelatedRates,
    end: date,
) -> list[Record]:
    ids = uuids(rng, n_jobs)
    home = _skewed(rng, len(departments), n_jobs, 1.1)
    second = (home + 1 + rng.integers(0, max(1, len(departments) - 1), n_jobs)) % len(departments)
    two = ((rng.random(n_jobs) < rates.two_departments) & (second != home)).tolist()
    office = _skewed(rng, len(offices), n_jobs, 0.9).tolist()
    no_office = (rng.random(n_jobs) < rates.no_office).tolist()
    # Recruiters carry very different loads: Zipf weights over the creators.
    rec1 = _skewed(rng, len(people.recruiters), n_jobs, 1.3).tolist()
    rec2 = rng.integers(0, len(people.recruiters), n_jobs).tolist()
    kind = rng.random(n_jobs).tolist()
    manager = rng.integers(0, len(people.managers), n_jobs).tolist()
    title = rng.integers(0, len(_TITLES), n_jobs).tolist()
    level = rng.integers(0, len(_LEVELS), n_jobs).tolist()
    statuses = np.array(["OPEN", "CLOSED", "DRAFT", "ARCHIVED"], dtype=object)
    status = rng.choice(statuses, n_jobs, p=[0.6, 0.3, 0.05, 0.05]).tolist()
    stamps = _stamps(rng, n_jobs, end, 600)
    home_list, second_list = home.tolist(), second.tolist()
    jobs = []
    for i in range(n_jobs):
        dept = departments[home_list[i]]
        recruiters: list[str] = []
        if kind[i] >= rates.no_recruiter:
            recruiters.append(people.recruiters[rec1[i]])
            if kind[i] > 1 - rates.two_recruiters and rec2[i] != rec1[i]:
                recruiters.append(people.recruiters[rec2[i]])
        jobs.append(
            {
                "id": ids[i],
                "remote_id": str(4_000 + i),
                "name": f"{_LEVELS[level[i]]}{dept['name']} {_TITLES[title[i]]}",
                "code": f"{dept['name'][:3].upper()}-{i + 1:04d}",
                "status": status[i],
                "departments": [dept["id"]]
                + ([departments[second_list[i]]["id"]] if two[i] else []),
                "offices": [] if no_office[i] else [offices[office[i]]["id"]],
                "hiring_managers": [people.managers[manager[i]]],
                "recruiters": recruiters,
                "modified_at": stamps[i],
            }
        )
    return jobs


def _applications(
    rng: np.random.Generator, ids: list[str], jobs: list[Record], rates: RelatedRates, end: date
) -> list[Record]:
    n = len(ids)
    job_ids = np.array([j["id"] for j in jobs], dtype=object)
    job = job_ids[_skewed(rng, len(jobs), n, 0.6)]
    dangling = rng.random(n) < rates.missing_job
    job[dangling] = uuids(rng, int(dangling.sum()))
    candidates = uuids(rng, n)
    stage = np.array(_STAGES, dtype=object)[rng.integers(0, len(_STAGES), n)].tolist()
    source = np.array(_SOURCES, dtype=object)[rng.integers(0, len(_SOURCES), n)].tolist()
    remote = rng.integers(1_000_000, 9_999_999, n).astype(str).tolist()
    applied = _stamps(rng, n, end, 1_100)
    modified = _stamps(rng, n, end, 30)
    return [
        {
            "id": app_id,
            "remote_id": remote[i],
            "candidate": candidates[i],
            "job": job_of,
            "applied_at": applied[i],
            "rejected_at": None,
            "current_stage": stage[i],
            "source": source[i],
            "credited_to": None,
            "modified_at": modified[i],
        }
        for i, (app_id, job_of) in enumerate(zip(ids, job.tolist(), strict=True))
    ]


def _connector_related(
    rng: np.random.Generator,
    offers: Sequence[Mapping[str, Any]],
    rates: RelatedRates,
    end: date,
) -> RelatedData:
    app_ids = _distinct([o.get("application") for o in offers])
    creators = _distinct([o.get("creator") for o in offers])
    keep = rng.random(len(app_ids)) >= rates.missing_application
    existing = [a for a, k in zip(app_ids, keep, strict=True) if k]
    n_jobs = max(3, round(len(existing) / rates.applications_per_job))
    n_departments = min(len(_DEPARTMENTS) + 8, 3 + n_jobs // 40)
    n_offices = min(len(_OFFICES), 2 + n_jobs // 60)
    departments = _named_objects(rng, _named("Department", _DEPARTMENTS, n_departments), end)
    offices = _named_objects(rng, _named("Office", _OFFICES, n_offices), end)
    managers = uuids(rng, max(2, len(creators) // 2 + 1))
    # With no creator in the offers, recruiters are users of their own.
    recruiters = creators or uuids(rng, 3)
    people = _People(recruiters=recruiters, managers=managers)
    jobs = _jobs(rng, n_jobs, departments, offices, people, rates, end)
    users = _users(rng, _distinct([*recruiters, *creators, *managers]), end)
    applications = _applications(rng, existing, jobs, rates, end)
    return RelatedData(applications, jobs, departments, offices, users)


def generate_related(
    offers: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    seed: int = 0,
    end: date | None = None,
    rates: RelatedRates | None = None,
) -> dict[str, RelatedData]:
    """Generate the applications, jobs, departments, offices and users the offers lead to.

    Parameters
    ----------
    offers
        Offers per connector label, API-shaped (e.g. from :func:`generate_offers`).
    seed
        The same seed and offers give the same objects.
    end
        ``modified_at`` values fall before this day; default today (UTC), as the offers'.
    rates
        Behaviour rates; see :class:`RelatedRates`.

    Returns
    -------
    dict[str, RelatedData]
        The related objects per connector label.

    Examples
    --------
    >>> from offer_analytics.sandbox import generate_offers
    >>> offers = generate_offers(400, seed=1)
    >>> related = generate_related(offers, seed=1)["default"]
    >>> len(related.jobs) > 10, sorted(related.jobs[0])[:4]
    (True, ['code', 'departments', 'hiring_managers', 'id'])
    >>> truth = related.resolve(offers["default"][0])
    >>> sorted(truth)[:4]
    ['department', 'department_id', 'departments', 'job']
    """
    chosen = rates or RelatedRates()
    last_day = today_utc() if end is None else end
    return {
        label: _connector_related(
            np.random.default_rng(np.random.SeedSequence([seed, _STREAM, index])),
            items,
            chosen,
            last_day,
        )
        for index, (label, items) in enumerate(offers.items())
    }
