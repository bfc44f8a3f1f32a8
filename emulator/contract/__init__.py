"""The contract-testing kit: a read-only client of any endpoint, snapshot, diff, comparison, strategies."""
