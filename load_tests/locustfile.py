"""Locust users: officers asking for matches (most traffic), registering referrals and
making offers; providers updating unit status and deciding offers.

The runner writes a plan (keys, referral and unit ids from the seeded database) and
points LOAD_TESTS_PLAN at it. Outcomes the service is right to give under contention
(409 when another user took a unit first, 422 when a unit breaks a household's rule)
count as successes: they are correct answers, not failures.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, constant_throughput, task

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOAD_TESTS_PLAN"]).read_text())
MATCHES = "/api/v1/referrals/[id]/matches"
EXPECTED_UNDER_CONTENTION = (409, 422)


class HealthUser(FastHttpUser):
    """Calibration: the framework's own floor, no database work beyond SELECT 1."""

    wait_time = between(0.0, 0.01)

    @task
    def health(self) -> None:
        self.client.get("/health")


class _Officer(FastHttpUser):
    abstract = True

    def on_start(self) -> None:
        officer = random.choice(PLAN["officers"])
        self.headers = {"Authorization": f"Bearer {officer['key']}"}
        self.referrals: list[str] = list(officer["referrals"])

    def match(self) -> dict[str, Any] | None:
        referral = random.choice(self.referrals)
        with self.client.get(
            f"/api/v1/referrals/{referral}/matches?limit=10",
            headers=self.headers,
            name=MATCHES,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return None
            return {"referral": referral, **response.json()}


class MatchOnlyUser(_Officer):
    """Calibration: only match requests, as fast as they come back."""

    wait_time = between(0.0, 0.01)

    @task
    def matches(self) -> None:
        self.match()


class OfficerUser(_Officer):
    """A housing officer's working day, compressed: a steady 2.6 actions a second each.

    Paced rather than flat out, so the offered load is what the thresholds name (about
    100 match requests a second from 50 users) and latency measures the service, not a
    queue the load generator built itself.
    """

    weight = 9
    wait_time = constant_throughput(2.6)

    @task(20)
    def matches(self) -> None:
        self.match()

    @task(2)
    def new_referral(self) -> None:
        body = {
            "reference": f"LOAD-{uuid.uuid4().hex[:12]}",
            "risk_level": random.choice(["standard", "medium", "high"]),
            "household": {
                "members": [{"age": random.randint(19, 60), "gender": "female"}]
                + [
                    {"age": random.randint(0, 17), "gender": random.choice(["female", "male"])}
                    for _ in range(random.randint(0, 3))
                ],
                "perpetrator_locations": [{**random.choice(PLAN["places"]), "radius_km": 5}],
            },
        }
        response = self.client.post(
            "/api/v1/referrals", json=body, headers=self.headers, name="/api/v1/referrals [create]"
        )
        if response.status_code == 201:
            self.referrals.append(response.json()["id"])

    @task(2)
    def offer_best_match(self) -> None:
        found = self.match()
        if not found or not found["options"]:
            return
        body = {"referral_id": found["referral"], "unit_id": found["options"][0]["unit_id"]}
        with self.client.post(
            "/api/v1/offers",
            json=body,
            headers=self.headers,
            name="/api/v1/offers [make]",
            catch_response=True,
        ) as response:
            if response.status_code in EXPECTED_UNDER_CONTENTION:
                response.success()
                return
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            if random.random() < 0.3:
                offer_id = response.json()["id"]
                with self.client.post(
                    f"/api/v1/offers/{offer_id}/withdraw",
                    headers=self.headers,
                    name="/api/v1/offers/[id]/withdraw",
                    catch_response=True,
                ) as withdrawn:
                    if withdrawn.status_code in EXPECTED_UNDER_CONTENTION:
                        withdrawn.success()  # the provider answered the offer first (409)


class ProviderUser(FastHttpUser):
    """A refuge keeping its vacancies current and answering offers."""

    weight = 1
    wait_time = between(0.2, 0.6)

    def on_start(self) -> None:
        provider = random.choice(PLAN["providers"])
        self.headers = {"Authorization": f"Bearer {provider['key']}"}
        self.units: list[str] = list(provider["units"])

    @task(3)
    def toggle_unit(self) -> None:
        """Take a room out for repairs or put it back (never occupied: that is placements')."""
        unit_id = random.choice(self.units)
        unit = self.client.get(
            f"/api/v1/units/{unit_id}", headers=self.headers, name="/api/v1/units/[id]"
        ).json()
        if unit["status"] not in ("available", "out_of_service"):
            return
        change = (
            {"status": "out_of_service", "out_of_service_reason": "repairs"}
            if unit["status"] == "available"
            else {"status": "available"}
        )
        with self.client.patch(
            f"/api/v1/units/{unit_id}",
            headers=self.headers,
            json={"version": unit["version"], **change},
            name="/api/v1/units/[id] [patch]",
            catch_response=True,
        ) as response:
            if response.status_code in EXPECTED_UNDER_CONTENTION:
                response.success()

    @task(2)
    def answer_offers(self) -> None:
        live = self.client.get(
            "/api/v1/offers?status=live&limit=5", headers=self.headers, name="/api/v1/offers [live]"
        ).json()
        for offer in live["items"]:
            verb = "accept" if random.random() < 0.5 else "decline"
            body = None if verb == "accept" else {"reason": "needs_not_met"}
            with self.client.post(
                f"/api/v1/offers/{offer['id']}/{verb}",
                json=body,
                headers=self.headers,
                name=f"/api/v1/offers/[id]/{verb}",
                catch_response=True,
            ) as response:
                if response.status_code in EXPECTED_UNDER_CONTENTION:
                    response.success()
