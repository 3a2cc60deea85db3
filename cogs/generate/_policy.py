"""What a server's rules say about one generation, asked before anything is recorded or sent.

The flow (``_flow``) asks its :class:`GenerationPolicy` twice: :meth:`~GenerationPolicy.place`
before a model is chosen (may this member generate here at all, with which models, which
providers the server's own key pays for), then :meth:`~GenerationPolicy.clear` for the chosen
model and, once it exists, the request (limits, credit caps, whose key pays, where the card
goes). Either raises an error whose text names the rule and what it allows; the flow answers it
privately. Without the ``cogs.settings`` extension the :data:`OPEN` policy applies: no rules,
members' own keys only, public cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import discord

from bot.models import ProviderRequest
from bot.providers.description import ModelChoice


@dataclass(frozen=True)
class Place:
    """What the server allows the member where the command was run."""

    #: /video and /image model keys allowed; None: every model.
    models: frozenset[str] | None = None
    #: Providers the server's sponsor key pays for (members without their own key use it).
    sponsored: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Clearance:
    """A generation the server's rules let through, and how it is to be made."""

    #: Whose stored key pays, when not the member's own (the server's sponsor key).
    paid_by: int | None = None
    #: The card and the result go to the member's DMs instead of the channel.
    private: bool = False
    #: Told to the member privately once the job is queued (e.g. why it waits).
    notes: tuple[str, ...] = ()


class GenerationPolicy(Protocol):
    async def place(self, interaction: discord.Interaction) -> Place:
        """What may be used here; raises (naming the rule) if this member may not generate here."""
        ...

    async def clear(
        self,
        interaction: discord.Interaction,
        choice: ModelChoice,
        request: ProviderRequest | None,
    ) -> Clearance:
        """How ``choice`` (and ``request``, None before it is known) is to be made; raises
        (naming the rule and what it allows) if a rule refuses it."""
        ...


class OpenPolicy:
    """No server rules: every model, members' own keys, public cards."""

    async def place(self, interaction: discord.Interaction) -> Place:
        return Place()

    async def clear(
        self,
        interaction: discord.Interaction,
        choice: ModelChoice,
        request: ProviderRequest | None,
    ) -> Clearance:
        return Clearance()


OPEN: GenerationPolicy = OpenPolicy()
