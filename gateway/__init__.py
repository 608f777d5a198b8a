"""The GraphQL gateway: turns mutations into commands and answers queries from projections.

It owns no truth. Built in the gateway issue; the package exists so the layout is complete.
"""
