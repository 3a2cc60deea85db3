"""Members' API keys as the engine uses them, and one request budget per key (kept across
restarts: every request sent is recorded, and the last window is read back at start-up)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import defaultdict
from collections.abc import Mapping

from bot.jobs.budget import PrepaidGate, RequestBudget, SentJournal
from bot.jobs.clock import Clock
from bot.jobs.config import EngineConfig
from bot.jobs.errors import KeyRejectedError, NoLinkedKeyError
from bot.storage import ApiKeyStore, KeyDecryptionError
from bot.storage.sent_requests import SentRequestStore

log = logging.getLogger(__name__)


def key_id(provider: str, api_key: str) -> tuple[str, str]:
    """What budgets are kept under: the provider and a digest of the key, never the key."""
    return provider, hashlib.sha256(api_key.encode()).hexdigest()[:16]


class KeyRing:
    """Each member's key per provider, read once and kept until they relink or unlink it.

    A key the configured secret cannot decrypt, or that the provider refused, is remembered as
    such: nothing is sent with it until it is linked again.
    """

    def __init__(
        self,
        keys: ApiKeyStore,
        config: EngineConfig,
        clock: Clock,
        sent: SentRequestStore | None = None,
    ) -> None:
        self._keys = keys
        self._config = config
        self._clock = clock
        windows = [window for _, window in (*config.budgets.values(), config.default_budget)]
        horizon = max(windows) * (1 + RequestBudget.MARGIN)
        #: Where each request is recorded before it leaves; None keeps budgets in memory only.
        self.journal = None if sent is None else SentJournal(sent, clock, horizon)
        self._api_keys: dict[tuple[int, str], str] = {}
        #: (owner, provider) whose stored key the configured secret cannot decrypt.
        self._unreadable: set[tuple[int, str]] = set()
        #: (owner, provider) whose key the provider refused: nothing is sent with it.
        self._rejected: set[tuple[int, str]] = set()
        self._budgets: dict[tuple[str, str], RequestBudget] = {}

    @property
    def budgets(self) -> Mapping[tuple[str, str], RequestBudget]:
        return self._budgets

    def cached(self, owner_id: int, provider: str) -> str | None:
        """The key already read for ``owner_id`` and ``provider``, if it may be used."""
        return self._api_keys.get((owner_id, provider))

    def rejected(self, owner_id: int, provider: str) -> bool:
        return (owner_id, provider) in self._rejected

    def unreadable(self, owner_id: int, provider: str) -> bool:
        return (owner_id, provider) in self._unreadable

    async def api_key(self, owner_id: int, provider: str) -> str | None:
        """The usable key, read from storage the first time; None if there is none."""
        cached = self._api_keys.get((owner_id, provider))
        if cached is None:
            if (owner_id, provider) in self._rejected:
                return None
            try:
                cached = await self._keys.reveal(owner_id, provider)
            except KeyDecryptionError:
                # The secret changed or was lost: the owner must link the key again. The rest
                # of the bot carries on; this key's jobs fail with that advice.
                self._unreadable.add((owner_id, provider))
                return None
            if cached is not None:
                linked = await self._keys.get(owner_id, provider)
                if linked is not None and linked.rejected:
                    # Refused by the provider earlier (before a restart): never sent again.
                    self._rejected.add((owner_id, provider))
                    return None
                self._api_keys[(owner_id, provider)] = cached
        return cached

    async def require(self, owner_id: int, provider: str) -> str:
        """The user's usable key for ``provider``, or the error that says why there is none."""
        api_key = await self.api_key(owner_id, provider)
        if api_key is not None:
            return api_key
        if (owner_id, provider) in self._rejected:
            raise KeyRejectedError(provider)
        if (owner_id, provider) in self._unreadable:
            raise KeyDecryptionError("stored key cannot be decrypted with the configured secret")
        raise NoLinkedKeyError(provider)

    def forget(self, owner_id: int, provider: str) -> bool:
        """The user relinked or unlinked the key: read it again next time. True if it had been
        refused by the provider."""
        self._api_keys.pop((owner_id, provider), None)
        self._unreadable.discard((owner_id, provider))
        was_rejected = (owner_id, provider) in self._rejected
        self._rejected.discard((owner_id, provider))
        return was_rejected

    async def reject(self, owner_id: int, provider: str) -> bool:
        """The provider refused the key: never used again until relinked. True the first time."""
        if (owner_id, provider) in self._rejected:
            self._api_keys.pop((owner_id, provider), None)
            return False
        self._rejected.add((owner_id, provider))
        self._api_keys.pop((owner_id, provider), None)
        log.warning(
            "The provider refused the %s key of user %d; not used again until relinked",
            provider,
            owner_id,
        )
        try:
            await self._keys.mark_rejected(owner_id, provider)
        except Exception:  # still refused in memory until the next start
            log.exception("Could not record that the %s key of %d was refused", provider, owner_id)
        return True

    def budget(self, provider: str, api_key: str) -> RequestBudget:
        """The request budget shared by every request made with ``api_key``: submits, polls,
        their retries and key checks."""
        return self._budget(key_id(provider, api_key))

    def _budget(self, key: tuple[str, str]) -> RequestBudget:
        budget = self._budgets.get(key)
        if budget is None:
            provider, digest = key
            limit, window = self._config.budgets.get(provider, self._config.default_budget)
            recorder = None if self.journal is None else self.journal.recorder(provider, digest)
            budget = RequestBudget(
                limit, window, self._clock, name=f"{provider}/{digest[:6]}", recorder=recorder
            )
            self._budgets[key] = budget
        return budget

    def gate(self, provider: str, api_key: str) -> PrepaidGate:
        """A gate for requests the scheduler did not reserve a slot for (a key check): each
        waits for the key's budget, ahead of the scheduler's requests."""
        return PrepaidGate(self.budget(provider, api_key))

    async def restore(self) -> int:
        """Count what an earlier process sent in the last window (at start-up); how many."""
        if self.journal is None:
            return 0
        sent: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
        for provider, digest, sent_at in await self.journal.recent():
            sent[(provider, digest)].append(sent_at)
        for key, times in sent.items():
            self._budget(key).restore(times)
        return sum(len(times) for times in sent.values())

    @property
    def writer(self) -> asyncio.Task[None] | None:
        """The journal's write under way, if any."""
        return None if self.journal is None else self.journal.writer

    async def flush(self) -> None:
        """Wait until every request sent so far is recorded (before the database closes)."""
        if self.journal is not None:
            await self.journal.flush()
