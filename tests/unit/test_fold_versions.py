"""Each aggregate's fold, pinned to its ``fold_version``: a change to what ``evolve`` (or a
function of its own module that it calls) does fails here until the aggregate's
``fold_version`` is raised and the new digest pinned. A snapshot holds states a fold made,
and its layout names the fold versions (``services.runtime.snapshots``), so a raised
version sets the old snapshots aside (each partition is folded from offset 0 once), and a
fold that changed without one would have taken an older fold's states for its own."""

from __future__ import annotations

import hashlib
import inspect
import types

from services.governance.domain import GOVERNANCE
from services.insurance.domain import INSURANCE
from services.membership.domain import MEMBERSHIP
from services.placement.domain import PLACEMENT
from services.savings.domain import SAVINGS
from services.training.domain import TRAINING

#: (service, aggregate) -> (fold_version, digest of the fold's code); when a fold changes
#: on purpose, raise its version in the service's definition and pin the digest printed.
PINNED = {
    ("membership", "cooperative"): (1, "fb393389ed24455a"),  # issue 23: names (empty before)
    ("membership", "member"): (1, "3c301905c2c5fbdc"),  # issue 23: accesses; a use of consent: no change
    ("savings", "account"): (1, "214d100d69d61ddf"),  # issues 25, 26: premiums, benefits, wages: no change
    ("training", "course"): (1, "371315e8140c75fe"),
    ("governance", "bylaws"): (1, "c5ba8cc89723f27d"),
    ("governance", "assembly"): (1, "c8879f51ef5f41ed"),
    ("insurance", "product"): (1, "bd5d994009ad9e25"),
    ("insurance", "policy"): (1, "7dceb8d990167202"),
    ("insurance", "cover"): (1, "75517d23382bea72"),  # new in issue 25, unreleased
    ("placement", "wage_floors"): (1, "0712dc0d3ae3157e"),  # new in issue 26, unreleased
    ("placement", "employer"): (1, "13e36d90a9270450"),
    ("placement", "job_order"): (1, "1f9a2f8634553e9f"),
    ("placement", "calendar"): (2, "8aab72b3031a0cfe"),  # 2: a booking keeps no shifts
}


def fold_code(function: types.FunctionType) -> str:
    """The source of ``function`` and of every function of its module it calls, in turn."""
    module = inspect.getmodule(function)
    seen: dict[str, str] = {}
    todo = [function]
    while todo:
        current = todo.pop()
        if current.__name__ in seen:
            continue
        seen[current.__name__] = inspect.getsource(current)
        for name in _names(current.__code__):
            found = getattr(module, name, None)
            if isinstance(found, types.FunctionType) and found.__module__ == module.__name__:
                todo.append(found)
    return "\n".join(seen[name] for name in sorted(seen))


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def test_every_fold_is_pinned_to_its_version():
    found = {}
    for service in (MEMBERSHIP, SAVINGS, TRAINING, GOVERNANCE, INSURANCE, PLACEMENT):
        for aggregate in service.aggregates:
            code = hashlib.sha256(fold_code(aggregate.evolve).encode()).hexdigest()[:16]
            found[(service.name, aggregate.name)] = (aggregate.fold_version, code)
    assert found == PINNED, (
        "a fold changed: if it makes something else of the same events, raise the "
        "aggregate's fold_version; then pin these: " + repr(found))


def test_the_pin_follows_a_helper_of_the_fold():
    """The digest covers the functions of its module a fold calls, not only ``evolve``."""
    from services.membership import domain  # noqa: PLC0415

    fold = domain.evolve_cooperative
    helpers = {name for name in _names(fold.__code__)
               if isinstance(getattr(domain, name, None), types.FunctionType)
               and getattr(domain, name).__module__ == domain.__name__}
    assert "_with_group" in helpers  # a helper of its module the cooperative's fold calls
    code = fold_code(fold)
    assert "def _with_group(" in code
    assert all(f"def {name}(" in code for name in helpers)
    assert code != inspect.getsource(fold)
