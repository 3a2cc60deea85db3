"""The documented example requests and responses of the three APIs, each written once.

Every body is copied verbatim from the providers' published pages: same keys, same order, same values
(JSON ``null`` and ``true`` written as ``None`` and ``True``). The comment above each names the seed
file and the section it comes from. The model tests check that the requests parse and go out
unchanged; the provider tests send them to the local fakes and parse the documented answers.

Names without a prefix are seedance2ai.io's, ``GUIDE_`` is seedanceapi.org's guide and ``README_``
is api.seed2.io's README.
"""

from __future__ import annotations

from typing import Any

# -- seedance2ai.io: seedance2ai-api-en.txt, seedance2ai-api-nl.txt, seedance2ai-api-ja.txt --------

# seedance2ai-api-en.txt, "Seedance Video" > "Submit a job" (POST /api/v1/video/seedance). The same
# body is the "Seedance 2 Video" request (POST /api/v1/video/seedance2) of seedance2ai-api-nl.txt
# ("Verzoek") and seedance2ai-api-ja.txt ("リクエスト").
VIDEO_EXAMPLE: dict[str, Any] = {
    "mode": "text-to-video",
    "quality_tier": "standard",
    "prompt": "A cinematic shot of a glass train crossing a snowy mountain bridge",
    "aspect_ratio": "16:9",
    "duration": "5",
    "resolution": "720p",
}

# seedance2ai-api-en.txt, "GPT Image 2" > "Submit a job" (POST /api/v1/image/gpt-image-2).
GPT_EXAMPLE: dict[str, Any] = {
    "type": "text-to-image",
    "prompt": "Editorial product photo of a transparent running shoe on chrome",
    "resolution": "1K",
    "aspectRatio": "1:1",
}

# seedance2ai-api-en.txt, "Nano Banana Pro" > "Submit a job" (POST /api/v1/image/nano-banana-pro).
NANO_EXAMPLE: dict[str, Any] = {
    "type": "text-to-image",
    "prompt": "A premium packaging mockup for an AI video studio",
    "image_size": "1:1",
    "resolution": "1K",
    "output_format": "png",
}

# The 202 answer to VIDEO_EXAMPLE: seedance2ai-api-nl.txt, "Seedance 2 Video" > "Antwoord202";
# seedance2ai-api-ja.txt, "Seedance 2 Video" > "レスポンス202".
SUBMIT_ANSWER: dict[str, Any] = {
    "id": "sd2_xxxxx",
    "status": "processing",
    "model": "seedance2",
    "quality_tier": "standard",
    "channel": "standard",
    "credits_used": 30,
}

# GET /api/v1/tasks/sd2_xxxxx: seedance2ai-api-nl.txt, "Taakstatus controleren" > "Antwoord200";
# seedance2ai-api-ja.txt, "タスクステータスの確認" > "レスポンス200".
COMPLETED_TASK: dict[str, Any] = {
    "id": "sd2_xxxxx",
    "status": "completed",
    "model": "seedance2",
    "quality_tier": "standard",
    "channel": "standard",
    "credits_used": 30,
    "credits_refunded": 0,
    "output": {"video_url": "https://...", "last_frame_url": "https://...", "seed": 123},
    "error": None,
    "created_at": "2026-06-03T10:00:00.000Z",
    "updated_at": "2026-06-03T10:03:12.000Z",
}

# GET /api/v1/tasks/sd2_xxxxx: seedance2ai-api-en.txt, "Check task status" (the shorter en answer).
EN_STATUS_ANSWER: dict[str, Any] = {
    "id": "sd2_xxxxx",
    "status": "completed",
    "model": "seedance",
    "output": {"video_url": "https://..."},
    "credits_used": 30,
}

# "All errors share this shape": seedance2ai-api-nl.txt, "Foutcodes"; seedance2ai-api-ja.txt,
# "エラーコード". No test sends it as written yet: the error-code tests fill the same shape per code.
ERROR_ANSWER: dict[str, Any] = {
    "error": {"code": "invalid_request", "message": "Invalid request body"},
}

# -- seedanceapi.org: seedanceapi-guide.txt -------------------------------------------------------

# Every request body of the guide (POST /v1/generate), by section.
GUIDE_EXAMPLES: dict[str, dict[str, Any]] = {
    # "Step 2: Your First Generation (Text-to-Video)": the curl body. "Code Examples" > "Python" and
    # > "JavaScript / Node.js" send the same body.
    "first-generation": {
        "prompt": "A cinematic shot of mountains at sunrise with flowing clouds",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "duration": "8",
    },
    # "Generation Modes" > "Text-to-Video".
    "text-to-video": {
        "prompt": "A majestic eagle soaring through golden sunset clouds over ocean waves",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "duration": "8",
    },
    # "Generation Modes" > "Image-to-Video".
    "image-to-video": {
        "prompt": "The character slowly turns and smiles at the camera",
        "image_urls": ["https://example.com/my-image.jpg"],
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "duration": "4",
    },
    # "Generation Modes" > "With Audio Generation".
    "with-audio": {
        "prompt": "A peaceful river flowing through a forest with birds singing",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "duration": "8",
        "generate_audio": True,
        "fixed_lens": True,
    },
    # "Webhook Callbacks".
    "webhook-callback": {
        "prompt": "A serene mountain landscape at sunrise, time-lapse style",
        "duration": "8",
        "resolution": "720p",
        "aspect_ratio": "16:9",
        "callback_url": "https://your-app.com/api/seedance-callback",
    },
}

# "Step 2: Your First Generation (Text-to-Video)" > "Response:" (the answer to POST /v1/generate).
GUIDE_SUBMIT_RESPONSE: dict[str, Any] = {
    "code": 200,
    "message": "success",
    "data": {"task_id": "seed15abc123def456pro", "status": "IN_PROGRESS"},
}

# "Step 3: Check Status" > "Completed response:" (GET /v1/status?task_id=seed15abc123def456pro).
GUIDE_COMPLETED: dict[str, Any] = {
    "code": 200,
    "message": "success",
    "data": {
        "task_id": "seed15abc123def456pro",
        "status": "SUCCESS",
        "consumed_credits": 28,
        "created_at": "2026-02-07T10:30:00Z",
        "request": {
            "prompt": "A cinematic shot of mountains at sunrise with flowing clouds",
            "aspect_ratio": "16:9",
            "resolution": "720p",
            "duration": "8",
        },
        "response": ["https://cdn.example.com/videos/seed15abc123def456pro.mp4"],
        "error_message": None,
    },
}

# -- api.seed2.io: seed2-readme.txt ---------------------------------------------------------------

# Every request of the README (POST /v1/video/generate), by section; the Python SDK calls are
# written as the body their keyword arguments make.
README_EXAMPLES: dict[str, dict[str, Any]] = {
    # "Quick Start" > "2. Generate a Video" > "cURL:"; the "Node.js:" body is the same.
    "curl-and-node": {
        "prompt": "A cat playing piano in a jazz bar, cinematic lighting",
        "model": "seedance_2.0_fast",
        "duration": 5,
        "ratio": "16:9",
    },
    # "Quick Start" > "2. Generate a Video" > "Python (with SDK):".
    "python-quick-start": {
        "prompt": "A cat playing piano in a jazz bar, cinematic lighting",
        "model": "seedance_2.0_fast",
        "duration": 5,
    },
    # "Usage Modes" > "Text to Video".
    "text-to-video": {"prompt": "Sunrise over Mount Fuji, timelapse, 4K"},
    # "Usage Modes" > "Image to Video".
    "image-to-video": {
        "prompt": "The woman in @image_file_1 walks through a garden, petals falling",
        "image_files": ["https://example.com/woman.jpg"],
    },
    # "Usage Modes" > "Video Reference".
    "video-reference": {
        "prompt": "A cartoon character performing the same dance",
        "model": "seedance_2.0",
        "duration": 10,
        "video_files": ["https://example.com/dance.mp4"],
    },
    # "Usage Modes" > "Audio Sync".
    "audio-sync": {
        "prompt": "A DJ mixing at a nightclub, energetic crowd",
        "duration": 10,
        "audio_files": ["https://example.com/edm-track.mp3"],
    },
    # "Usage Modes" > "Image + Audio (Lip-sync)".
    "image-audio-lip-sync": {
        "prompt": "The person in @image_file_1 is giving a TED talk with confident gestures",
        "model": "seedance_2.0",
        "duration": 8,
        "ratio": "9:16",
        "image_files": ["https://example.com/speaker.jpg"],
        "audio_files": ["https://example.com/speech.mp3"],
    },
    # "Python SDK": the one-liner client.generate(...); client.create_task(...) there is the same.
    "sdk-one-liner": {"prompt": "A cat playing piano"},
}

# "API Reference" > "Create Video Task" > "Response:".
README_SUBMIT_RESPONSE: dict[str, Any] = {
    "code": 0,
    "message": "ok",
    "data": {"task_id": 456, "status": "pending", "points_cost": 2900, "balance": 7100},
}

# "Quick Start" > "3. Poll for Result" > "Response when completed:" (GET /v1/tasks/TASK_ID).
README_COMPLETED: dict[str, Any] = {
    "code": 0,
    "message": "ok",
    "data": {
        "id": 123,
        "status": "completed",
        "result": {"video_url": "https://cdn.seed2.io/videos/xxx.mp4", "duration": 5},
        "points_cost": 2900,
    },
}
