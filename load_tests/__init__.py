"""Load tests: locust users for the API and a headless runner with pass/fail thresholds."""
