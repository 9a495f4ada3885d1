"""Slack payloads to core messages, and `/shop` text to its parts: pure functions, recorded payloads."""

from __future__ import annotations

import urllib.parse

from adapters.slack.convert import (
    action_channel,
    action_string,
    action_thread,
    clean_text,
    event_key,
    from_action,
    from_event,
    is_direct_message,
    parse_command,
    parse_search,
    thread_ts,
)

# As documented in ../shared/docs/platforms.md
APP_MENTION = {"token": "x", "team_id": "T111", "api_app_id": "A111", "type": "event_callback", "event_id": "Ev111",
               "event_time": 1700000000, "event": {"type": "app_mention", "text": "<@UBOT> red jackets?", "user": "U222",
                                                   "ts": "1700000000.000100", "channel": "C111",
                                                   "event_ts": "1700000000.000100"}}
BLOCK_ACTIONS = {"type": "block_actions", "user": {"id": "U111", "username": "ana", "team_id": "T111"},
                 "api_app_id": "A111", "trigger_id": "111.222.abc", "team": {"id": "T111", "domain": "shop"},
                 "channel": {"id": "C111", "name": "staff"},
                 "container": {"type": "message", "message_ts": "1700000000.000200", "channel_id": "C111"},
                 "response_url": "http://127.0.0.1:1/response/2",
                 "actions": [{"action_id": "details", "block_id": "p1", "type": "button", "value": "SKU1",
                              "action_ts": "1700000001.0"}]}
SLASH = ("token=x&team_id=T111&team_domain=shop&channel_id=C111&channel_name=staff&user_id=U111&user_name=ana"
         "&command=%2Fshop&text=sku%20ABC-1&api_app_id=A111&response_url=http%3A%2F%2F127.0.0.1%3A1%2Fresponse%2F1"
         "&trigger_id=111.222.abc")


def test_app_mention_becomes_a_message_without_the_mention():
    msg = from_event(APP_MENTION["event"])
    assert msg is not None
    assert (msg.platform, msg.user_id, msg.chat_id, msg.text) == ("slack", "U222", "C111", "red jackets?")
    assert msg.user_key == "slack:U222"
    assert thread_ts(APP_MENTION["event"]) == "1700000000.000100"
    assert event_key(APP_MENTION) == "slack:event:Ev111"


def test_a_reply_in_a_thread_stays_in_that_thread():
    event = {**APP_MENTION["event"], "ts": "1700000000.000300", "thread_ts": "1700000000.000001"}
    assert thread_ts(event) == "1700000000.000001"


def test_direct_messages_and_what_is_ignored():
    dm = {"type": "message", "channel_type": "im", "text": "hi", "user": "U2", "ts": "1.1", "channel": "D1"}
    assert is_direct_message(dm) and from_event(dm).text == "hi"
    assert not is_direct_message({**dm, "channel_type": "channel"})
    assert not is_direct_message({**dm, "bot_id": "B1"}) and from_event({**dm, "bot_id": "B1"}) is None
    assert from_event({**dm, "subtype": "message_changed"}) is None
    assert from_event({**dm, "user": None}) is None
    assert from_event({"type": "reaction_added", "user": "U2"}) is None


def test_clean_text_unescapes_and_flattens_slack_markup():
    raw = "<@U123|ana> boots &lt;100&gt; &amp; socks <https://shop.example/x|this one> in <#C999|staff> <!here>"
    assert clean_text(raw) == "boots <100> & socks this one in #staff"
    assert clean_text("<@W1>   many   spaces\n\n  two lines ") == "many spaces\ntwo lines"
    assert clean_text(None) == "" and len(clean_text("x" * 10000)) == 10000  # the core cuts, with a notice


def test_block_actions_become_core_actions():
    msg = from_action(BLOCK_ACTIONS)
    assert msg is not None and msg.action == "d:SKU1" and msg.user_id == "U111" and msg.chat_id == "C111"
    assert action_channel(BLOCK_ACTIONS) == "C111"
    assert action_thread(BLOCK_ACTIONS) == "1700000000.000200"
    threaded = {**BLOCK_ACTIONS, "message": {"ts": "1700000000.000200", "thread_ts": "1700000000.000100"}}
    assert action_thread(threaded) == "1700000000.000100"
    assert action_string({"action_id": "more_like_this", "value": "SKU2"}) == "m:SKU2"
    assert action_string({"action_id": "save", "value": "SKU2"}) == "s:SKU2"
    assert action_string({"action_id": "act_0", "value": "relax:price"}) == "relax:price"
    assert action_string({"action_id": "staff_approve", "value": "{}"}) is None
    assert action_string({"action_id": "details", "value": ""}) is None
    assert from_action({**BLOCK_ACTIONS, "actions": []}) is None


def test_slash_command_text_is_split_into_subcommand_and_arguments():
    form = dict(urllib.parse.parse_qsl(SLASH))
    assert parse_command(form["text"]) == ("sku", "ABC-1")
    assert parse_command("") == ("help", "")
    assert parse_command("  STATS   30 ") == ("stats", "30")
    assert parse_command("search boots &amp; socks") == ("search", "boots & socks")


def test_search_filters_are_parsed():
    req = parse_search('warm jacket brand:Tundrix color:red color:navy min:50 max:120.5 instock '
                       'type:"down jacket" attr:waterproof=true attr:fit=slim')
    f = req.filters
    assert req.query == "warm jacket" and not req.problems
    assert f.brands == ("Tundrix",) and f.colors == ("red", "navy") and f.types == ("down jacket",)
    assert (f.min_price, f.max_price, f.in_stock) == (50.0, 120.5, True)
    assert f.attributes == {"waterproof": True, "fit": "slim"}


def test_bad_filters_are_reported_not_guessed():
    req = parse_search("boots max:cheap attr:nokey")
    assert req.query == "boots" and len(req.problems) == 2 and "max" in req.problems[0]
    assert parse_search('tent "unbalanced').query == 'tent "unbalanced'
    assert parse_search("http://x.example").query == "http://x.example"  # an unknown key is just a word



# Payloads of an app that opted in to locales (`include_locale`): the user's locale rides on the event or the user.
DM_WITH_LOCALE = {"type": "message", "channel_type": "im", "text": "Necesito una chaqueta", "user": "U3", "ts": "1.2",
                  "channel": "D3", "locale": "es-ES"}
BLOCK_ACTIONS_WITH_LOCALE = {**BLOCK_ACTIONS, "user": {**BLOCK_ACTIONS["user"], "locale": "de-DE"}}


def test_the_users_slack_locale_is_a_hint_on_the_message():
    from adapters.slack.convert import user_locale

    assert from_event(DM_WITH_LOCALE).locale == "es-ES"
    assert from_event({**APP_MENTION["event"], "user_profile": {"locale": "fr-FR"}}).locale == "fr-FR"
    assert from_action(BLOCK_ACTIONS_WITH_LOCALE).locale == "de-DE"
    assert from_event(APP_MENTION["event"]).locale is None and from_action(BLOCK_ACTIONS).locale is None
    assert user_locale({"locale": 7}) is None and user_locale({"locale": "x" * 100}) is None  # malformed: no hint
