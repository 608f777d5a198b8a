"""Savings: accounts, deposits and withdrawals, shares, loans, remittances and savings sent
home to another node."""
