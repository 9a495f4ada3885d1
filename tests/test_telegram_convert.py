"""Updates (as Telegram sends them) -> the core's IncomingMessage, and update classification."""

from __future__ import annotations

import copy

import pytest
from telegram import Update

from adapters.telegram.convert import (
    BotIdentity,
    callback_to_message,
    classify_update,
    command_to_message,
    parse_command,
    strip_mention,
    update_key,
    update_to_message,
    valid_callback_data,
)

BOT = BotIdentity(123456, "shop_bot")
DATE = 1700000000
ALICE = {"id": 42, "is_bot": False, "first_name": "Alice", "username": "alice", "language_code": "en"}
BOB = {"id": 7, "is_bot": False, "first_name": "Bob", "language_code": "de"}
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Shop", "username": "shop_bot"}
PRIVATE = {"id": 42, "type": "private", "first_name": "Alice", "username": "alice"}
GROUP = {"id": -100777, "type": "supergroup", "title": "Hiking friends"}

START = {"update_id": 1, "message": {"message_id": 1, "date": DATE, "chat": PRIVATE, "from": ALICE, "text": "/start",
                                     "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
CALLBACK = {"update_id": 2, "callback_query": {
    "id": "cbq-1", "chat_instance": "ci-42", "data": "d:SG-HB-1001", "from": ALICE,
    "message": {"message_id": 100, "date": DATE + 1, "chat": {"id": 42, "type": "private"}, "from": BOT_USER, "text": "..."}}}


def update(data: dict) -> Update:
    return Update.de_json(copy.deepcopy(data), None)


def text_update(text: str, chat: dict = PRIVATE, user: dict = ALICE, **extra) -> Update:
    return update({"update_id": 5, "message": {"message_id": 5, "date": DATE, "chat": chat, "from": user, "text": text, **extra}})


def test_private_text_becomes_a_message_with_user_and_locale():
    msg = update_to_message(text_update("waterproof hiking boots"), BOT)
    assert msg is not None
    assert (msg.platform, msg.user_id, msg.chat_id, msg.text) == ("telegram", "42", "42", "waterproof hiking boots")
    assert msg.action is None and msg.locale == "en" and msg.user_name == "Alice"
    assert msg.user_key == "telegram:42"


@pytest.mark.parametrize("payload, kind", [
    (START, "command"),
    (CALLBACK, "callback"),
    ({"update_id": 3, "message": {"message_id": 3, "date": DATE, "chat": PRIVATE, "from": ALICE, "text": "hello"}}, "text"),
    ({"update_id": 4, "edited_message": {"message_id": 3, "date": DATE, "edit_date": DATE + 5, "chat": PRIVATE,
                                         "from": ALICE, "text": "hello!"}}, "edited"),
    ({"update_id": 5, "channel_post": {"message_id": 9, "date": DATE, "chat": {"id": -1001, "type": "channel", "title": "News"},
                                       "text": "sale"}}, "channel_post"),
    ({"update_id": 6, "message": {"message_id": 4, "date": DATE, "chat": PRIVATE, "from": ALICE,
                                  "sticker": {"file_id": "s", "file_unique_id": "s1", "type": "regular", "width": 512,
                                              "height": 512, "is_animated": False, "is_video": False}}}, "unsupported"),
    ({"update_id": 7, "message": {"message_id": 5, "date": DATE, "chat": PRIVATE, "from": ALICE,
                                  "voice": {"file_id": "v", "file_unique_id": "v1", "duration": 3}}}, "unsupported"),
    ({"update_id": 8, "message": {"message_id": 6, "date": DATE, "chat": GROUP, "from": ALICE,
                                  "new_chat_members": [BOB]}}, "service"),
    ({"update_id": 9, "my_chat_member": {"chat": GROUP, "from": ALICE, "date": DATE,
                                         "old_chat_member": {"status": "left", "user": BOT_USER},
                                         "new_chat_member": {"status": "member", "user": BOT_USER}}}, "other"),
])
def test_classify_update(payload, kind):
    assert classify_update(update(payload)) == kind


def test_non_text_and_edits_are_not_messages_for_the_core():
    sticker = {"update_id": 6, "message": {"message_id": 4, "date": DATE, "chat": PRIVATE, "from": ALICE,
                                           "sticker": {"file_id": "s", "file_unique_id": "s1", "type": "regular", "width": 1,
                                                       "height": 1, "is_animated": False, "is_video": False}}}
    edited = {"update_id": 4, "edited_message": {"message_id": 3, "date": DATE, "edit_date": DATE + 5, "chat": PRIVATE,
                                                 "from": ALICE, "text": "hello!"}}
    assert update_to_message(update(sticker), BOT) is None
    assert update_to_message(update(edited), BOT) is None


def test_group_message_without_mention_or_reply_is_ignored():
    assert update_to_message(text_update("anyone seen my boots?", GROUP, BOB), BOT) is None


def test_group_mention_is_answered_per_user_with_the_mention_removed():
    text = "@shop_bot red rain jacket"
    msg = update_to_message(text_update(text, GROUP, BOB, entities=[{"type": "mention", "offset": 0, "length": 9}]), BOT)
    assert msg is not None
    assert msg.text == "red rain jacket"
    assert msg.user_key == "telegram:7" and msg.chat_id == "-100777" and msg.locale == "de"


def test_group_mention_is_case_insensitive_and_other_bots_are_not_us():
    ours = text_update("hey @Shop_Bot, tents?", GROUP, BOB, entities=[{"type": "mention", "offset": 4, "length": 9}])
    theirs = text_update("hey @other_bot tents?", GROUP, BOB, entities=[{"type": "mention", "offset": 4, "length": 10}])
    assert update_to_message(ours, BOT).text == "hey tents?"
    assert update_to_message(theirs, BOT) is None


def test_group_text_mention_of_the_bot_user():
    msg = text_update("Shop what about tents", GROUP, BOB,
                      entities=[{"type": "text_mention", "offset": 0, "length": 4, "user": BOT_USER}])
    assert update_to_message(msg, BOT) is not None


def test_group_reply_to_the_bot_is_answered_but_reply_to_a_person_is_not():
    to_bot = {"message_id": 50, "date": DATE, "chat": GROUP, "from": BOT_USER, "text": "Here is what I found"}
    to_alice = {"message_id": 51, "date": DATE, "chat": GROUP, "from": ALICE, "text": "I like boots"}
    assert update_to_message(text_update("cheaper ones?", GROUP, BOB, reply_to_message=to_bot), BOT).text == "cheaper ones?"
    assert update_to_message(text_update("me too", GROUP, BOB, reply_to_message=to_alice), BOT) is None


def test_mentions_in_private_chats_are_kept_verbatim():
    msg = update_to_message(text_update("ask @shop_bot about tents"), BOT)
    assert msg.text == "ask @shop_bot about tents"


@pytest.mark.parametrize("text, expected", [
    ("/start", ("hello", None)),
    ("/help", ("", "help")),
    ("/search waterproof boots", ("waterproof boots", None)),
    ("/search@shop_bot  tents ", ("tents", None)),
    ("/search", ("", None)),
    ("/prefs", ("show my preferences", None)),
    ("/forget", ("forget me", None)),
    ("/export", ("export my data", None)),
    ("/human", ("", "human")),
])
def test_commands_map_to_core_text_or_actions(text, expected):
    length = len(text.split(" ")[0])
    msg = command_to_message(text_update(text, entities=[{"type": "bot_command", "offset": 0, "length": length}]), BOT)
    assert msg is not None
    assert (msg.text, msg.action) == expected
    assert msg.user_key == "telegram:42"


def test_unknown_command_is_not_mapped():
    assert command_to_message(text_update("/teleport", entities=[{"type": "bot_command", "offset": 0, "length": 9}])) is None


def test_parse_command():
    assert parse_command("/Search@Shop_bot red boots") == ("search", "red boots", "Shop_bot")
    assert parse_command("/help") == ("help", "", None)


def test_callback_becomes_an_action():
    msg = update_to_message(update(CALLBACK), BOT)
    assert msg is not None
    assert (msg.action, msg.text, msg.user_id, msg.chat_id) == ("d:SG-HB-1001", "", "42", "42")


def test_callback_on_an_inaccessible_message_still_has_its_chat():
    data = copy.deepcopy(CALLBACK)
    data["callback_query"]["message"] = {"message_id": 100, "date": 0, "chat": {"id": 42, "type": "private"}}
    assert callback_to_message(update(data)).chat_id == "42"


@pytest.mark.parametrize("data", [None, "", "d:" + "X" * 63, "d:SKU\n1"])
def test_forged_or_missing_callback_data_is_rejected(data):
    payload = copy.deepcopy(CALLBACK)
    if data is None:
        del payload["callback_query"]["data"]
        payload["callback_query"]["game_short_name"] = "g"
    else:
        payload["callback_query"]["data"] = data
    assert valid_callback_data(data) is None
    assert callback_to_message(update(payload)) is None


def test_callback_data_limit_is_in_bytes():
    assert valid_callback_data("d:" + "x" * 62) == "d:" + "x" * 62
    assert valid_callback_data("q:" + "ü" * 32) is None  # 66 bytes


def test_strip_mention_and_update_key():
    assert strip_mention("@shop_bot: show tents", "shop_bot") == "show tents"
    assert update_key(123456, 77) == "telegram:update:123456:77"
