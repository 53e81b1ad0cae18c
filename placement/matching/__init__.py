"""Matching: the bridge between the registry and the optimiser.

- `index`: the per-worker registry index and its snapshots, kept current by the
  change feed;
- `convert`: records as the optimiser takes them;
- `loaders`: the queries that feed it (units, protocols with balances, rehousing
  options, households linked through a perpetrator);
- `results`: what an officer is shown (areas, never addresses; partners as counts);
- `service`: the use cases (matches, perpetrator options, allocation runs, the pair
  check before an offer).
"""
