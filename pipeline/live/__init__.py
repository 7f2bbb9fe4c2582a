"""Live video in the browser: the relay in each capture process, its Redis channel, the
sockets (consumers) and their quotas, the live grid page and its alerts feed."""
