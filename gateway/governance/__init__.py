"""Governance (issue 24): assemblies, their roll, ballots, results. Bylaws, convening, motions,
the roll, proxies, check-ins and the close are mutations generated from the contracts
(``gateway/commands.py``); a ballot is sealed here with the assembly's ballot key before it
is sent, and the tally is opened here after the close (``mutations.py``); ``queries.py``
reads an assembly, a receipt, her place on the roll."""
