"""Long runs as jobs: a persisted resource with status, progress and result.

`service` creates, reads and cancels them under the row filter; `runners` runs one (with
heartbeats, progress and cancel); `queue` is the in-process runner of the embedded SQLite
default; `postgres` and `worker` hand them to `placement worker` processes through
procrastinate's PostgreSQL queue.
"""
