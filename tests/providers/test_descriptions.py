"""Each provider's description agrees with its client, its request models and the settings."""

from __future__ import annotations

import pytest

from bot.models import ENDPOINTS, MediaKind, Provider, endpoint
from bot.providers import CLIENT_CLASSES, DESCRIPTIONS, ProviderDescription
from bot.providers.registry import (
    base_url_settings,
    documented_budgets,
    endpoint_description,
    extension_for,
    model_choices,
    timing_priors,
)
from bot.settings import Settings

DESCRIBED = list(DESCRIPTIONS.values())


def test_every_provider_has_one_description_and_one_client() -> None:
    assert list(DESCRIPTIONS) == list(Provider)
    assert list(CLIENT_CLASSES) == list(Provider)
    for provider, described in DESCRIPTIONS.items():
        assert described.provider is provider
        assert CLIENT_CLASSES[provider].provider is provider


@pytest.mark.parametrize("described", DESCRIBED, ids=lambda d: d.provider.value)
def test_the_client_honours_idempotency_as_described(described: ProviderDescription) -> None:
    client = CLIENT_CLASSES[described.provider]
    assert client.honours_idempotency is described.honours_idempotency


def test_every_endpoint_is_described_once_by_its_provider() -> None:
    described = {item.id: provider for provider, d in DESCRIPTIONS.items() for item in d.endpoints}
    assert sorted(described) == sorted(e.id for e in ENDPOINTS)
    assert sum(len(d.endpoints) for d in DESCRIBED) == len(ENDPOINTS)
    for item in ENDPOINTS:
        assert described[item.id] is item.provider


@pytest.mark.parametrize("described", DESCRIBED, ids=lambda d: d.provider.value)
def test_choices_options_and_media_name_real_fields(described: ProviderDescription) -> None:
    for item in described.endpoints:
        model = endpoint(item.id).request_model
        fields = set(model.model_fields)
        assert item.choices, item.id
        for choice in item.choices:
            assert choice.endpoint_id == item.id
            assert choice.kind is endpoint(item.id).kind
            assert set(choice.options.values()) <= fields, choice.key
            assert set(choice.fixed) <= fields, choice.key
        assert {slot.name for slot in item.media.slots()} <= fields, item.id
        assert set(item.media.references_by_kind) <= {"image", "video", "audio"}
        if item.mode is not None:
            assert item.mode.field in fields
        assert {default.field for default in item.defaults} <= fields
        if item.extension is not None:
            assert set(item.extension.keep) | {item.extension.clip_field} <= fields
            assert set(item.extension.fixed) <= fields


def test_choice_keys_are_unique_across_providers() -> None:
    keys = [choice.key for d in DESCRIBED for choice in d.choices]
    assert len(keys) == len(set(keys))
    assert len(model_choices(MediaKind.VIDEO)) + len(model_choices(MediaKind.IMAGE)) == len(keys)


@pytest.mark.parametrize("described", DESCRIBED, ids=lambda d: d.provider.value)
def test_key_shapes_show_their_prefix(described: ProviderDescription) -> None:
    if described.key_prefix is not None:
        assert described.key_shape.startswith(described.key_prefix)


def test_each_base_url_setting_exists_with_the_documented_default() -> None:
    for provider, setting in base_url_settings().items():
        field = Settings.model_fields[setting]
        assert field.default == DESCRIPTIONS[provider].default_base_url


def test_budgets_and_timing_come_from_the_descriptions() -> None:
    assert documented_budgets() == {
        d.provider.value: d.documented_budget for d in DESCRIBED if d.documented_budget
    }
    assert set(timing_priors()) == {e.id for e in ENDPOINTS}


def test_lookups_of_unknown_ids_find_nothing() -> None:
    assert endpoint_description("no-such-endpoint") is None
    assert extension_for("no-such-endpoint") is None
