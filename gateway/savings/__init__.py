"""Savings: accounts, deposits and withdrawals, shares, loans, remittances and savings sent
home to another node. Its mutations are generated from the contracts (``gateway/commands.py``;
``mutations.py`` here holds its prechecks); her accounts are read as ``Member.accounts``
(``gateway/members/member.py``), behind the savings scope (``gateway/access.py``)."""
