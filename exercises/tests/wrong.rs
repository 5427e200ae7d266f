//! The graders against wrong answers: every `lessons/NN-*/wrong/<mistake>.rs` is
//! a plausible wrong solution, and its module below runs the lesson's grader
//! against it. This target is expected to FAIL: `scripts/check-exercises`
//! runs it and proves that every fixture fails at least one grader test, with
//! a message containing the fixture's `Caught by:` text.
//!
//! A fixture is a module file of its own (`#[path]`, not `include!`, so it may
//! start with `//!` lines); its grader module sees it as `subject`, as
//! `lesson_NN.rs` sees the student's exercise.

#[allow(unused)]
#[path = "../../lessons/00-models/wrong/ports_in_network_layer.rs"]
mod wrong_00_ports_in_network_layer;
mod lesson_00_ports_in_network_layer {
    use super::wrong_00_ports_in_network_layer as subject;
    include!("../../lessons/00-models/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/00-models/wrong/session_in_transport.rs"]
mod wrong_00_session_in_transport;
mod lesson_00_session_in_transport {
    use super::wrong_00_session_in_transport as subject;
    include!("../../lessons/00-models/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/00-models/wrong/tls_at_application.rs"]
mod wrong_00_tls_at_application;
mod lesson_00_tls_at_application {
    use super::wrong_00_tls_at_application as subject;
    include!("../../lessons/00-models/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/00-models/wrong/websocket_as_transport.rs"]
mod wrong_00_websocket_as_transport;
mod lesson_00_websocket_as_transport {
    use super::wrong_00_websocket_as_transport as subject;
    include!("../../lessons/00-models/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/01-tcp/wrong/eof_is_success.rs"]
mod wrong_01_eof_is_success;
mod lesson_01_eof_is_success {
    use super::wrong_01_eof_is_success as subject;
    include!("../../lessons/01-tcp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/01-tcp/wrong/interrupted_is_fatal.rs"]
mod wrong_01_interrupted_is_fatal;
mod lesson_01_interrupted_is_fatal {
    use super::wrong_01_interrupted_is_fatal as subject;
    include!("../../lessons/01-tcp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/01-tcp/wrong/read_overwrites_the_start.rs"]
mod wrong_01_read_overwrites_the_start;
mod lesson_01_read_overwrites_the_start {
    use super::wrong_01_read_overwrites_the_start as subject;
    include!("../../lessons/01-tcp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/01-tcp/wrong/zero_write_loops.rs"]
mod wrong_01_zero_write_loops;
mod lesson_01_zero_write_loops {
    use super::wrong_01_zero_write_loops as subject;
    include!("../../lessons/01-tcp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/02-framing/wrong/length_counts_the_header.rs"]
mod wrong_02_length_counts_the_header;
mod lesson_02_length_counts_the_header {
    use super::wrong_02_length_counts_the_header as subject;
    include!("../../lessons/02-framing/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/02-framing/wrong/little_endian.rs"]
mod wrong_02_little_endian;
mod lesson_02_little_endian {
    use super::wrong_02_little_endian as subject;
    include!("../../lessons/02-framing/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/02-framing/wrong/refuses_the_limit.rs"]
mod wrong_02_refuses_the_limit;
mod lesson_02_refuses_the_limit {
    use super::wrong_02_refuses_the_limit as subject;
    include!("../../lessons/02-framing/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/02-framing/wrong/waits_for_the_payload.rs"]
mod wrong_02_waits_for_the_payload;
mod lesson_02_waits_for_the_payload {
    use super::wrong_02_waits_for_the_payload as subject;
    include!("../../lessons/02-framing/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/03-chat/wrong/broadcast_includes_sender.rs"]
mod wrong_03_broadcast_includes_sender;
mod lesson_03_broadcast_includes_sender {
    use super::wrong_03_broadcast_includes_sender as subject;
    include!("../../lessons/03-chat/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/03-chat/wrong/event_before_ack.rs"]
mod wrong_03_event_before_ack;
mod lesson_03_event_before_ack {
    use super::wrong_03_event_before_ack as subject;
    include!("../../lessons/03-chat/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/03-chat/wrong/event_case_insensitive.rs"]
mod wrong_03_event_case_insensitive;
mod lesson_03_event_case_insensitive {
    use super::wrong_03_event_case_insensitive as subject;
    include!("../../lessons/03-chat/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/03-chat/wrong/negative_ack_accepted.rs"]
mod wrong_03_negative_ack_accepted;
mod lesson_03_negative_ack_accepted {
    use super::wrong_03_negative_ack_accepted as subject;
    include!("../../lessons/03-chat/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/04-rooms/wrong/empty_room_kept.rs"]
mod wrong_04_empty_room_kept;
mod lesson_04_empty_room_kept {
    use super::wrong_04_empty_room_kept as subject;
    include!("../../lessons/04-rooms/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/04-rooms/wrong/except_ignores_id_rooms.rs"]
mod wrong_04_except_ignores_id_rooms;
mod lesson_04_except_ignores_id_rooms {
    use super::wrong_04_except_ignores_id_rooms as subject;
    include!("../../lessons/04-rooms/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/04-rooms/wrong/gone_id_still_reached.rs"]
mod wrong_04_gone_id_still_reached;
mod lesson_04_gone_id_still_reached {
    use super::wrong_04_gone_id_still_reached as subject;
    include!("../../lessons/04-rooms/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/04-rooms/wrong/sender_not_skipped.rs"]
mod wrong_04_sender_not_skipped;
mod lesson_04_sender_not_skipped {
    use super::wrong_04_sender_not_skipped as subject;
    include!("../../lessons/04-rooms/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/05-udp/wrong/duplicate_checked_last.rs"]
mod wrong_05_duplicate_checked_last;
mod lesson_05_duplicate_checked_last {
    use super::wrong_05_duplicate_checked_last as subject;
    include!("../../lessons/05-udp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/05-udp/wrong/gap_includes_the_arrival.rs"]
mod wrong_05_gap_includes_the_arrival;
mod lesson_05_gap_includes_the_arrival {
    use super::wrong_05_gap_includes_the_arrival as subject;
    include!("../../lessons/05-udp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/05-udp/wrong/late_moves_expectation_back.rs"]
mod wrong_05_late_moves_expectation_back;
mod lesson_05_late_moves_expectation_back {
    use super::wrong_05_late_moves_expectation_back as subject;
    include!("../../lessons/05-udp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/06-tcp-vs-udp/wrong/fraction_not_capped.rs"]
mod wrong_06_fraction_not_capped;
mod lesson_06_fraction_not_capped {
    use super::wrong_06_fraction_not_capped as subject;
    include!("../../lessons/06-tcp-vs-udp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/06-tcp-vs-udp/wrong/jitter_without_the_sixteenth.rs"]
mod wrong_06_jitter_without_the_sixteenth;
mod lesson_06_jitter_without_the_sixteenth {
    use super::wrong_06_jitter_without_the_sixteenth as subject;
    include!("../../lessons/06-tcp-vs-udp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/06-tcp-vs-udp/wrong/no_wrapping.rs"]
mod wrong_06_no_wrapping;
mod lesson_06_no_wrapping {
    use super::wrong_06_no_wrapping as subject;
    include!("../../lessons/06-tcp-vs-udp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/06-tcp-vs-udp/wrong/signed_d.rs"]
mod wrong_06_signed_d;
mod lesson_06_signed_d {
    use super::wrong_06_signed_d as subject;
    include!("../../lessons/06-tcp-vs-udp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/07-missed-events/wrong/held_copy_replaced.rs"]
mod wrong_07_held_copy_replaced;
mod lesson_07_held_copy_replaced {
    use super::wrong_07_held_copy_replaced as subject;
    include!("../../lessons/07-missed-events/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/07-missed-events/wrong/rttvar_uses_new_srtt.rs"]
mod wrong_07_rttvar_uses_new_srtt;
mod lesson_07_rttvar_uses_new_srtt {
    use super::wrong_07_rttvar_uses_new_srtt as subject;
    include!("../../lessons/07-missed-events/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/07-missed-events/wrong/timeout_not_capped.rs"]
mod wrong_07_timeout_not_capped;
mod lesson_07_timeout_not_capped {
    use super::wrong_07_timeout_not_capped as subject;
    include!("../../lessons/07-missed-events/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/07-missed-events/wrong/window_off_by_one.rs"]
mod wrong_07_window_off_by_one;
mod lesson_07_window_off_by_one {
    use super::wrong_07_window_off_by_one as subject;
    include!("../../lessons/07-missed-events/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/08-websocket-handshake/wrong/decoded_key.rs"]
mod wrong_08_decoded_key;
mod lesson_08_decoded_key {
    use super::wrong_08_decoded_key as subject;
    include!("../../lessons/08-websocket-handshake/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/08-websocket-handshake/wrong/key_not_trimmed.rs"]
mod wrong_08_key_not_trimmed;
mod lesson_08_key_not_trimmed {
    use super::wrong_08_key_not_trimmed as subject;
    include!("../../lessons/08-websocket-handshake/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/08-websocket-handshake/wrong/token_as_substring.rs"]
mod wrong_08_token_as_substring;
mod lesson_08_token_as_substring {
    use super::wrong_08_token_as_substring as subject;
    include!("../../lessons/08-websocket-handshake/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/08-websocket-handshake/wrong/token_case_sensitive.rs"]
mod wrong_08_token_case_sensitive;
mod lesson_08_token_case_sensitive {
    use super::wrong_08_token_case_sensitive as subject;
    include!("../../lessons/08-websocket-handshake/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/09-websocket-frames/wrong/key_before_extended_length.rs"]
mod wrong_09_key_before_extended_length;
mod lesson_09_key_before_extended_length {
    use super::wrong_09_key_before_extended_length as subject;
    include!("../../lessons/09-websocket-frames/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/09-websocket-frames/wrong/mask_word_byte_order.rs"]
mod wrong_09_mask_word_byte_order;
mod lesson_09_mask_word_byte_order {
    use super::wrong_09_mask_word_byte_order as subject;
    include!("../../lessons/09-websocket-frames/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/09-websocket-frames/wrong/shortest_form_off_by_one.rs"]
mod wrong_09_shortest_form_off_by_one;
mod lesson_09_shortest_form_off_by_one {
    use super::wrong_09_shortest_form_off_by_one as subject;
    include!("../../lessons/09-websocket-frames/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/09-websocket-frames/wrong/top_bit_accepted.rs"]
mod wrong_09_top_bit_accepted;
mod lesson_09_top_bit_accepted {
    use super::wrong_09_top_bit_accepted as subject;
    include!("../../lessons/09-websocket-frames/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/10-browser-socketio/wrong/packet_limit_off_by_one.rs"]
mod wrong_10_packet_limit_off_by_one;
mod lesson_10_packet_limit_off_by_one {
    use super::wrong_10_packet_limit_off_by_one as subject;
    include!("../../lessons/10-browser-socketio/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/10-browser-socketio/wrong/poll_refused_while_probing.rs"]
mod wrong_10_poll_refused_while_probing;
mod lesson_10_poll_refused_while_probing {
    use super::wrong_10_poll_refused_while_probing as subject;
    include!("../../lessons/10-browser-socketio/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/10-browser-socketio/wrong/separator_after_every_packet.rs"]
mod wrong_10_separator_after_every_packet;
mod lesson_10_separator_after_every_packet {
    use super::wrong_10_separator_after_every_packet as subject;
    include!("../../lessons/10-browser-socketio/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/10-browser-socketio/wrong/unpadded_base64.rs"]
mod wrong_10_unpadded_base64;
mod lesson_10_unpadded_base64 {
    use super::wrong_10_unpadded_base64 as subject;
    include!("../../lessons/10-browser-socketio/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/11-inspector/wrong/checksum_without_carry.rs"]
mod wrong_11_checksum_without_carry;
mod lesson_11_checksum_without_carry {
    use super::wrong_11_checksum_without_carry as subject;
    include!("../../lessons/11-inspector/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/11-inspector/wrong/flags_msb_first.rs"]
mod wrong_11_flags_msb_first;
mod lesson_11_flags_msb_first {
    use super::wrong_11_flags_msb_first as subject;
    include!("../../lessons/11-inspector/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/11-inspector/wrong/ihl_as_bytes.rs"]
mod wrong_11_ihl_as_bytes;
mod lesson_11_ihl_as_bytes {
    use super::wrong_11_ihl_as_bytes as subject;
    include!("../../lessons/11-inspector/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/11-inspector/wrong/total_len_little_endian.rs"]
mod wrong_11_total_len_little_endian;
mod lesson_11_total_len_little_endian {
    use super::wrong_11_total_len_little_endian as subject;
    include!("../../lessons/11-inspector/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/12-many-servers/wrong/chars_not_bytes.rs"]
mod wrong_12_chars_not_bytes;
mod lesson_12_chars_not_bytes {
    use super::wrong_12_chars_not_bytes as subject;
    include!("../../lessons/12-many-servers/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/12-many-servers/wrong/length_little_endian.rs"]
mod wrong_12_length_little_endian;
mod lesson_12_length_little_endian {
    use super::wrong_12_length_little_endian as subject;
    include!("../../lessons/12-many-servers/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/12-many-servers/wrong/own_broadcast_delivered.rs"]
mod wrong_12_own_broadcast_delivered;
mod lesson_12_own_broadcast_delivered {
    use super::wrong_12_own_broadcast_delivered as subject;
    include!("../../lessons/12-many-servers/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/12-many-servers/wrong/remote_id_room_delivered.rs"]
mod wrong_12_remote_id_room_delivered;
mod lesson_12_remote_id_room_delivered {
    use super::wrong_12_remote_id_room_delivered as subject;
    include!("../../lessons/12-many-servers/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/01-tcp/wrong/one_client_at_a_time.rs"]
mod wrong_01_one_client_at_a_time;
mod lesson_01_one_client_at_a_time {
    use super::wrong_01_one_client_at_a_time as subject;
    include!("../../lessons/01-tcp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/05-udp/wrong/any_answer_counts.rs"]
mod wrong_05_any_answer_counts;
mod lesson_05_any_answer_counts {
    use super::wrong_05_any_answer_counts as subject;
    include!("../../lessons/05-udp/tests.rs");
}

#[allow(unused)]
#[path = "../../lessons/08-websocket-handshake/wrong/no_head_limit.rs"]
mod wrong_08_no_head_limit;
mod lesson_08_no_head_limit {
    use super::wrong_08_no_head_limit as subject;
    include!("../../lessons/08-websocket-handshake/tests.rs");
}
