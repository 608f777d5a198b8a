"""The GraphQL gateway: turns mutations into commands and answers queries from projections
of the events topics. It owns no truth.

One folder per feature, each with what its events do to its documents (``documents.py``,
``fold.py``), its GraphQL types (``types.py``) and its ``queries.py``, ``mutations.py``,
``subscriptions.py`` where it has them. Every command's mutation is generated from its
contract (``commands.py``); a feature's ``mutations.py`` holds only its prechecks and the
mutations made by hand. Her record's parts are read as fields of ``Member``
(``members/member.py``), each behind its scope in ``access.py``:

* ``members/``  the registry of cooperatives and members, memberships, groups, consent; and
  ``Member`` (``member.py``), her whole record as far as the caller may see it
* ``savings/``  accounts, loans, remittances, savings sent home
* ``training/`` courses, enrolments, certificates
* ``records/``  the portable record as a credential: make and check credentials, export,
  import, verify, status lists, the printable record
* ``figures/``  the federation's figures under the disclosure rule, kept as events arrive
  (``kept.py``: the fold marks a member, its follower keeps her part), the live feed, the
  dashboard page

The shared layer, below the features: ``documents.py`` (the member's record, which every
feature writes a part of, her timeline, the store protocol), ``types.py`` (``Money``, ids),
``paging.py``, ``auth.py``, ``access.py``, ``context.py``, ``listeners.py``,
``descriptions.py``, ``pages.py``, the mutation result types (``results.py``), the inputs
generated from the contracts (``inputs.py``) and the sending of commands (``commands.py``).
Above the features: ``fold.py`` (an event to every feature's fold; the timeline; the
figures' marks),
``projections.py`` (the fold over the log) and ``store.py`` (its RocksDB), ``catchup.py`` (the
fold in bulk), ``checkpoints.py`` (copies of the store new replicas start from), ``schema.py`` (Query, Mutation and
Subscription from the features' parts, and the guards) and ``app.py`` (the ASGI app).

Imports go one way, never in a cycle: a feature imports the shared layer; ``members`` also
imports the types of ``savings``, ``training`` and ``records`` (its ``Member`` shows their
parts of her record), and ``figures`` the documents of ``members``; ``savings``,
``training`` and ``records`` import no other feature. Only the modules above the features
import all of them (and ``members/subscriptions.py``, which words her events as her
timeline does, with ``fold.summary``). A new event touches its contract, its decider and the ``fold.py`` (and,
if it shows, the ``types.py``) of one feature.
"""
