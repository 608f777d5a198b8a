"""What ``coopbridge demo`` prints when it is done: per node, the cooperatives and members
planned and the mutations sent, accepted, already done and rejected (the commonest rejections
with an example, never a value sent), whether Rosa's savings arrived home, and each node's
dashboard; or, cut short, how far it got and how to finish."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deploy.demo.calls import BOOKED_ON, Plan
from deploy.demo.sender import Outcome


def print_summary(console: Console, plan: Plan, outcome: Outcome, gateways: dict[str, str],
                  analyst_token: Callable[[str], str]) -> None:
    """The table of what was sent and answered, per node, and where to look at it."""
    table = Table(title=f"coopbridge demo · seed {plan.seed} · {plan.members} members · "
                        f"{plan.months_label()}")
    for column in ("node", "cooperatives", "members", "mutations sent", "accepted",
                   "already done", "rejected"):
        table.add_column(column, justify="left" if column == "node" else "right")
    nodes = Counter(node for _, node in plan.cooperatives.values())
    for node in plan.nodes:
        table.add_row(node, str(nodes[node]), str(plan.people[node]), str(outcome.sent[node]),
                      str(outcome.accepted[node]), str(outcome.already[node]),
                      str(outcome.rejected_by_node[node]))
    table.add_row("all", str(len(plan.cooperatives)), str(sum(plan.people.values())),
                  str(sum(outcome.sent.values())), str(sum(outcome.accepted.values())),
                  str(sum(outcome.already.values())), str(len(outcome.rejected)),
                  style="bold")
    console.print(table)
    rate = sum(outcome.sent.values()) / outcome.seconds if outcome.seconds else 0
    console.print(f"{outcome.seconds:.1f} s · {rate:.0f} mutations/s · "
                  f"{outcome.retries} retries · booking dates "
                  f"{'sent' if BOOKED_ON else 'off (everything booked today)'}")
    if outcome.settled is not None:
        console.print("Rosa's savings " + ("arrived home" if outcome.settled else
                                           "[yellow]have not arrived home yet[/] (is the "
                                           "federation relay running?)"))
    if outcome.skipped:
        console.print(f"[yellow]{outcome.skipped} steps skipped[/] after an earlier step failed")
    if outcome.stale:
        console.print(f"{outcome.stale} steps not sent again: they need the answer of a step "
                      "this seed made more than a week ago, which is no longer kept (another "
                      "--seed makes new ones)")
    if outcome.rejected:
        codes = Counter((r.mutation, r.code) for r in outcome.rejected)
        for (mutation, code), count in codes.most_common(10):
            example = next(r.message for r in outcome.rejected
                           if (r.mutation, r.code) == (mutation, code))
            console.print(f"[red]rejected[/] {mutation}: {code} ×{count} · {escape(example)}")
    for node in plan.nodes:
        console.print(f"dashboard of node [bold]{node}[/]: "
                      f"{gateways[node]}/dashboard#token={analyst_token(node)}", soft_wrap=True)


def print_cut_short(console: Console, plan: Plan, outcome: Outcome,
                    urls: tuple[str, ...]) -> None:
    """What a stopped demo sent, and the command that finishes it (``urls``: as given)."""
    console.print(
        f"[yellow]demo seeding cut short[/] after {outcome.seconds:.0f} s "
        f"({outcome.doing}): {outcome.done:,} of {plan.calls:,} mutations "
        "answered, the rest not sent, and those in flight dropped (each may or may not "
        "have been applied). It is deterministic and idempotent: `coopbridge demo "
        f"--seed {plan.seed} --members {plan.members} "
        + " ".join([f"--node {node}" for node in plan.nodes] + [f"--url {u}" for u in urls])
        + "` (or the next `up --demo`) sends the same commands under the same keys, and "
        "what is done already is answered from the log.")
