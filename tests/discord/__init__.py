"""Drive the bot's real cogs with real discord.py objects; Discord's HTTP API is a local fake.

    from tests.discord.fixtures import discord_fake, make_bot, make_seedance_bot  # in conftest.py

    async def test_render(discord_fake, make_bot):
        fake = discord_fake
        bot = await make_bot(MyBot(), extensions=["cogs.generate"])   # logged in, cache filled
        payload = slash_command_interaction(
            "video", options={"prompt": "a cat", "image": fake.host_attachment("cat.png", b"...")},
            channel=fake.text_channel, user=fake.member_user,
        )
        await dispatch(bot, payload)                                   # waits for the handlers
        assert [c.type for c in fake.callbacks_for(payload)] == [5]    # deferred
        message = fake.original_response(payload)                      # the message, as JSON

Modules: :mod:`.fake` (the server, its failures and read-back helpers), :mod:`.routes` (what
each route answers), :mod:`.world` (guilds, channels, messages, uploads), :mod:`.payloads`
(gateway payload builders), :mod:`.harness` (log in, dispatch, wait), :mod:`.schema` (Discord's
OpenAPI spec as judge of every body), :mod:`.fixtures` (pytest fixtures).
"""
