"""Slash-command options become provider requests; problems come back in option names."""

from __future__ import annotations

import pytest

from bot.models import ENDPOINTS, InvalidParameters, MediaKind
from cogs.generate._requests import (
    ALL_MODELS,
    IMAGE_MODELS,
    VIDEO_MODELS,
    Attachment,
    Inputs,
    allowed_values,
    build_request,
    default_model,
)

PNG = Attachment("https://cdn.discordapp.com/attachments/1/2/frame.png", "frame.png", "image/png")
END = Attachment("https://cdn.discordapp.com/attachments/1/3/end.png", "end.png", "image/png")
MP4 = Attachment("https://cdn.discordapp.com/attachments/1/4/dance.mp4", "dance.mp4", "video/mp4")
MP3 = Attachment("https://cdn.discordapp.com/attachments/1/5/song.mp3", "song.mp3", None)
ZIP = Attachment(
    "https://cdn.discordapp.com/attachments/1/6/pack.zip", "pack.zip", "application/zip"
)
PROMPT = "A glass train crossing a snowy bridge"


def problems(choice_key: str, inputs: Inputs) -> dict[str, str]:
    with pytest.raises(InvalidParameters) as caught:
        build_request(ALL_MODELS[choice_key], inputs)
    return {p.field: str(p) for p in caught.value.problems}


def test_every_parameter_of_every_endpoint_is_reachable_from_an_option() -> None:
    # Filled by the bot itself: the mode/type it infers, the model a choice fixes, the media lists
    # it builds from attachments and URLs. callback_url is the engine's to set (a URL of the
    # bot's own per job, with PUBLIC_URL) and is deliberately not offered to members.
    derived = {"mode", "type", "model", "media_urls", "image_urls", "image_files", "video_files",
               "audio_files", "image_url", "end_image_url", "callback_url"}  # fmt: skip
    for endpoint in ENDPOINTS:
        choices = [c for c in ALL_MODELS.values() if c.endpoint_id == endpoint.id]
        assert choices, endpoint.id
        reachable = {f for c in choices for f in c.options.values()} | derived
        missing = set(endpoint.request_model.model_fields) - reachable
        assert not missing, f"{endpoint.id}: {missing}"


@pytest.mark.parametrize(
    ("inputs", "mode"),
    [
        (Inputs(PROMPT), "text-to-video"),
        (Inputs(PROMPT, start_frame=PNG), "image-to-video"),
        (Inputs(PROMPT, start_frame=PNG, end_frame=END), "image-to-video"),
        (Inputs(PROMPT, files=[MP4]), "media-to-video"),
        (Inputs(PROMPT, urls=["https://example.com/ref.png"]), "media-to-video"),
    ],
)
def test_the_mode_is_inferred_from_the_inputs(inputs: Inputs, mode: str) -> None:
    wire = build_request(VIDEO_MODELS["seedance2"], inputs).to_wire()
    assert wire["mode"] == mode
    if inputs.start_frame:
        assert wire["image_url"] == PNG.url
    if inputs.end_frame:
        assert wire["end_image_url"] == END.url
    if inputs.files or inputs.urls:
        assert wire["media_urls"] == [a.url for a in inputs.files] + inputs.urls


def test_an_explicit_mode_that_ignores_the_inputs_is_refused_in_option_names() -> None:
    found = problems("seedance2", Inputs(PROMPT, {"mode": "text-to-video"}, start_frame=PNG))
    assert "start_frame" in found
    assert "image-to-video" in found["start_frame"]


def test_options_a_model_does_not_take_are_named_with_the_models_that_do() -> None:
    found = problems("seedanceapi", Inputs(PROMPT, {"seed": 5, "quality_tier": "pro"}))
    assert set(found) == {"seed", "quality_tier"}
    assert "Seedance 2 (seedance2ai)" in found["seed"]
    assert "seedanceapi" in found["seed"]


def test_model_rules_come_back_under_the_option_names() -> None:
    found = problems("seedanceapi", Inputs(PROMPT, {"duration": 7}))
    assert "duration" in found
    assert "4, 8, 12" in found["duration"]
    found = problems("seedance2", Inputs(PROMPT, {"render_channel": "real", "seed": 3}))
    assert "seed" in found
    assert "real channel" in found["seed"]
    found = problems(
        "seedance2", Inputs(PROMPT, urls=[f"https://example.com/{i}.png" for i in range(13)])
    )
    assert "references" in found
    found = problems("gpt-image-2", Inputs(PROMPT, {"aspect_ratio": "auto", "resolution": "2K"}))
    assert "aspect_ratio" in found


def test_seedanceapi_takes_the_start_frame_as_its_one_image() -> None:
    wire = build_request(
        VIDEO_MODELS["seedanceapi"], Inputs(PROMPT, {"duration": 4}, start_frame=PNG)
    ).to_wire()
    assert wire["image_urls"] == [PNG.url]
    assert wire["duration"] == "4"
    assert problems("seedanceapi", Inputs(PROMPT, files=[MP4])).keys() == {"references"}


def test_seed2_sorts_references_by_kind_with_the_start_frame_first() -> None:
    inputs = Inputs(
        "@image_file_1 dances like @image_file_2",
        {"duration": 8, "aspect_ratio": "9:16"},
        start_frame=PNG,
        files=[
            MP4,
            Attachment("https://cdn.discordapp.com/a/b/pose.jpg", "pose.jpg", "image/jpeg"),
            MP3,
        ],
        urls=["https://example.com/beat.wav"],
    )
    wire = build_request(VIDEO_MODELS["seed2-premium"], inputs).to_wire()
    assert wire["model"] == "seedance_2.0"
    assert wire["ratio"] == "9:16"
    assert wire["duration"] == 8
    assert wire["image_files"] == [PNG.url, "https://cdn.discordapp.com/a/b/pose.jpg"]
    assert wire["video_files"] == [MP4.url]
    assert wire["audio_files"] == [MP3.url, "https://example.com/beat.wav"]


def test_seed2_refuses_files_it_cannot_classify_and_dangling_image_references() -> None:
    found = problems("seed2-fast", Inputs(PROMPT, files=[ZIP], urls=["https://example.com/x"]))
    assert set(found) == {"references", "urls"}
    found = problems("seed2-fast", Inputs("@image_file_2 waves", start_frame=PNG))
    assert "prompt" in found


def test_a_start_frame_must_be_an_image() -> None:
    assert "start_frame" in problems("seedance2", Inputs(PROMPT, start_frame=MP4))


@pytest.mark.parametrize(
    ("options", "resolution", "ratio"),
    [
        ({}, "1K", "auto"),
        ({"resolution": "2K"}, "2K", "1:1"),
        ({"aspect_ratio": "16:9"}, "1K", "16:9"),
    ],
)
def test_gpt_image_2_gets_the_required_resolution_and_ratio(
    options: dict[str, str], resolution: str, ratio: str
) -> None:
    wire = build_request(IMAGE_MODELS["gpt-image-2"], Inputs(PROMPT, options)).to_wire()
    assert (wire["resolution"], wire["aspectRatio"], wire["type"]) == (
        resolution,
        ratio,
        "text-to-image",
    )


def test_images_make_an_image_to_image_request() -> None:
    wire = build_request(
        IMAGE_MODELS["nano-banana-pro"], Inputs(PROMPT, {"aspect_ratio": "4:5"}, files=[PNG])
    ).to_wire()
    assert wire["type"] == "image-to-image"
    assert wire["image_urls"] == [PNG.url]
    assert wire["image_size"] == "4:5"
    assert "images" in problems(
        "nano-banana-pro", Inputs(PROMPT, urls=[f"https://e.com/{i}.png" for i in range(9)])
    )


def test_autocomplete_values_follow_the_model_and_the_other_options() -> None:
    seedance2 = VIDEO_MODELS["seedance2"]
    assert "4k" not in allowed_values(seedance2, "resolution", {"quality_tier": "standard"})
    assert "4k" in allowed_values(seedance2, "resolution", {"quality_tier": "pro"})
    assert "real" not in allowed_values(seedance2, "render_channel", {"seed": 9})
    assert "adaptive" not in allowed_values(VIDEO_MODELS["seedance"], "aspect_ratio", {})
    assert "9:21" in allowed_values(VIDEO_MODELS["seedanceapi"], "aspect_ratio", {})
    assert allowed_values(IMAGE_MODELS["gpt-image-2"], "resolution", {"aspect_ratio": "auto"}) == (
        "1K",
    )
    assert allowed_values(VIDEO_MODELS["seed2-fast"], "resolution", {}) == ()


def test_the_default_model_is_one_the_member_has_a_key_for() -> None:
    assert default_model(MediaKind.VIDEO, ["seed2"]).key == "seed2-fast"  # type: ignore[union-attr]
    assert default_model(MediaKind.VIDEO, ["seedanceapi", "seedance2ai"]).key == "seedance2"  # type: ignore[union-attr]
    assert default_model(MediaKind.IMAGE, ["seed2"]) is None
    assert default_model(MediaKind.IMAGE, ["seedance2ai"]).key == "gpt-image-2"  # type: ignore[union-attr]
