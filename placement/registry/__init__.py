"""Registry services: authorities, providers, schemes, units, protocols, rehousing options.

Each service is built per request for one principal. Reads go through `visible()`, the
row filter for that principal, so scoping lives in the SQL itself: a row outside a
principal's scope is simply not found (404), never fetched and then hidden.
"""
