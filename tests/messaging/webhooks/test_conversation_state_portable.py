"""The conversation-state scenarios of test_conversation_state.py again, through the
portable path that SQLite (`make demo`) takes (an UPDATE of CASE expressions instead of
PostgreSQL's unnest and RETURNING): the same counts, snippets, statuses and events. Here it
runs on PostgreSQL with the PostgreSQL-only statement switched off, as
test_inbound_portable.py does."""

from __future__ import annotations

from tests.messaging.webhooks.test_conversation_state import (  # noqa: F401  (collected here again)
    citizen,
    test_a_batch_for_several_conversations_counts_each_on_its_own,
    test_a_conversation_answered_waits_again_from_the_next_message,
    test_a_keyword_message_on_its_own_path_counts_like_any_other,
    test_a_late_old_message_does_not_replace_the_snippet_of_a_newer_one,
    test_a_message_in_an_open_conversation_publishes_no_status_change,
    test_a_message_reopens_a_resolved_conversation_and_says_so,
    test_a_message_wakes_a_snoozed_conversation_and_clears_the_snooze,
    test_a_new_conversation_publishes_no_status_change,
    test_a_reaction_moves_the_snippet_but_adds_nothing_unread,
    test_a_redelivered_message_publishes_no_second_status_change,
    test_a_redelivered_webhook_does_not_count_its_messages_again,
    test_a_revoke_neither_reopens_nor_counts,
    test_an_answer_within_the_second_of_our_reply_becomes_the_snippet,
    test_each_message_of_a_batch_counts_as_unread_and_the_latest_is_the_snippet,
    test_each_reopened_conversation_of_a_batch_publishes_its_own_status_change,
    test_hostile_text_gives_a_short_clean_snippet,
    test_messages_add_to_what_an_agent_has_not_read_yet,
    test_several_messages_reopen_a_conversation_once_after_its_messages_are_received,
    test_the_conversation_keeps_waiting_since_the_earliest_unanswered_message,
    test_the_snippet_of_a_photo_says_photo_and_its_caption,
    test_whatsapp_notices_neither_count_nor_move_the_snippet,
)
from tests.messaging.webhooks.test_inbound_portable import portable_path  # noqa: F401  (autouse)
