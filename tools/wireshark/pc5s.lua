-- pc5s.lua: Wireshark dissector for pc5sec PC5 signalling captures (docs/pcap-format.md).
--
-- Install:  cp tools/wireshark/pc5s.lua ~/.local/lib/wireshark/plugins/
-- Or once:  tshark -X lua_script:tools/wireshark/pc5s.lua -r capture.pcap
--
-- Registered on wtap_encap USER0 (pcap link type 147). Each frame is pc5sec's 12-octet frame
-- header, then what went on the air (header version 2; version 1 held PC5-S before protection).
-- Messages in clear (SL-SRB0, discovery, and the integrity-only security mode command) are
-- dissected; every message, IE and container field is filterable:
-- pc5s.msg_type, pc5s.seq, pc5s.knrp_id, pc5s.nonce_1, pc5s.key_est_info.signature, ...
-- A frame with flag 0x08 (pc5s.hdr.flags.on_air) holds the PDU as it went on the air: its SRAP
-- header (pc5s.srap.*), data PDU header (pc5s.data.knrp_sess_id, .dc, .sn) or PDCP header of
-- protected PC5-S (pc5s.pdcp.*), and the ciphered octets. `pc5sec decode --pcap F --keylog K`
-- deciphers them (docs/pcap-format.md "Data PDUs and deciphering with the key log").
-- Code points that pc5sec chose itself (not readable in any public 3GPP text) are marked
-- "[provisional]" in the tree, raise an expert note, and are listed in pc5s.provisional.
--
-- The SCHEMA table below is generated from pc5sec's one code-point table and message field
-- lists; refresh it with `pc5sec decode --wireshark-schema` (a test checks that it is current).

-- BEGIN GENERATED SCHEMA (pc5sec decode --wireshark-schema)
local SCHEMA = {
  messages = {
    [0x01] = { name = "establishment_request", title = "PROSE DIRECT LINK ESTABLISHMENT REQUEST", status = "confirmed", ies = {
      { fmt = "lv", name = "source_user_info", type = "bytes", size = 0 },
      { fmt = "lv", name = "prose_identifiers", type = "bytes", size = 0 },
      { fmt = "lv", name = "ue_security_capabilities", type = "uesc", size = 2 },
      { fmt = "v", name = "signalling_security_policy", type = "policy", size = 1 },
      { fmt = "tlv", iei = 0x28, name = "target_user_info", type = "bytes", size = 0 },
      { fmt = "tv", iei = 0x52, name = "knrp_id", type = "u32", size = 4 },
      { fmt = "tv", iei = 0x53, name = "nonce_1", type = "bytes", size = 16 },
      { fmt = "tv", iei = 0x54, name = "msb_knrp_sess_id", type = "u8", size = 1 },
      { fmt = "tlve", iei = 0x74, name = "key_est_info", type = "key_est_info", size = 0 },
      { fmt = "tlv", iei = 0x29, name = "u2u_relay_ue_user_info", type = "bytes", size = 0 },
      { fmt = "tv", iei = 0x2a, name = "target_end_ue_l2_id", type = "u24", size = 3 },
      { fmt = "t1", iei = 0xb0, name = "relay_indication", type = "relay_indication", size = 0 },
      { fmt = "tv", iei = 0x2b, name = "relay_service_code", type = "u24", size = 3 },
      { fmt = "tlv", iei = 0x2c, name = "multi_hop_path_info", type = "bytes", size = 0 },
      { fmt = "tlve", iei = 0x75, name = "authentication_info", type = "authentication_info", size = 0 },
      { fmt = "tlve", iei = 0x76, name = "relay_authentication_info", type = "authentication_info", size = 0 },
    } },
    [0x02] = { name = "establishment_accept", title = "PROSE DIRECT LINK ESTABLISHMENT ACCEPT", status = "confirmed", ies = {
      { fmt = "lv", name = "source_user_info", type = "bytes", size = 0 },
      { fmt = "tlve", iei = 0x74, name = "key_est_info", type = "key_est_info", size = 0 },
      { fmt = "t1", iei = 0xb0, name = "relay_indication", type = "relay_indication", size = 0 },
      { fmt = "tlve", iei = 0x75, name = "authentication_info", type = "authentication_info", size = 0 },
      { fmt = "tlve", iei = 0x76, name = "relay_authentication_info", type = "authentication_info", size = 0 },
    } },
    [0x03] = { name = "establishment_reject", title = "PROSE DIRECT LINK ESTABLISHMENT REJECT", status = "code-only", ies = {
      { fmt = "v", name = "cause", type = "cause", size = 1 },
    } },
    [0x09] = { name = "authentication_request", title = "PROSE DIRECT LINK AUTHENTICATION REQUEST", status = "provisional", ies = {
      { fmt = "lve", name = "key_est_info", type = "key_est_info", size = 0 },
    } },
    [0x0a] = { name = "authentication_response", title = "PROSE DIRECT LINK AUTHENTICATION RESPONSE", status = "provisional", ies = {
      { fmt = "lve", name = "key_est_info", type = "key_est_info", size = 0 },
    } },
    [0x0b] = { name = "authentication_reject", title = "PROSE DIRECT LINK AUTHENTICATION REJECT", status = "provisional", ies = {
      { fmt = "v", name = "cause", type = "cause", size = 1 },
    } },
    [0x0c] = { name = "authentication_failure", title = "PROSE DIRECT LINK AUTHENTICATION FAILURE", status = "provisional", ies = {
      { fmt = "v", name = "cause", type = "cause", size = 1 },
      { fmt = "tlve", iei = 0x74, name = "key_est_info", type = "key_est_info", size = 0 },
    } },
    [0x0d] = { name = "security_mode_command", title = "PROSE DIRECT LINK SECURITY MODE COMMAND", status = "provisional", ies = {
      { fmt = "v", name = "selected_algorithms", type = "algs", size = 1 },
      { fmt = "lv", name = "ue_security_capabilities", type = "uesc", size = 2 },
      { fmt = "v", name = "signalling_security_policy", type = "policy", size = 1 },
      { fmt = "v", name = "nonce_2", type = "bytes", size = 16 },
      { fmt = "v", name = "lsb_knrp_sess_id", type = "u8", size = 1 },
      { fmt = "tv", iei = 0x57, name = "msb_knrp_id", type = "u16", size = 2 },
      { fmt = "tlve", iei = 0x74, name = "key_est_info", type = "key_est_info", size = 0 },
    } },
    [0x0e] = { name = "security_mode_complete", title = "PROSE DIRECT LINK SECURITY MODE COMPLETE", status = "provisional", ies = {
      { fmt = "tv", iei = 0x58, name = "lsb_knrp_id", type = "u16", size = 2 },
    } },
    [0x0f] = { name = "security_mode_reject", title = "PROSE DIRECT LINK SECURITY MODE REJECT", status = "provisional", ies = {
      { fmt = "v", name = "cause", type = "cause", size = 1 },
    } },
    [0x07] = { name = "release_request", title = "PROSE DIRECT LINK RELEASE REQUEST", status = "code-only", ies = {
      { fmt = "v", name = "cause", type = "cause", size = 1 },
    } },
    [0x08] = { name = "release_accept", title = "PROSE DIRECT LINK RELEASE ACCEPT", status = "code-only", ies = {
    } },
    [0x10] = { name = "rekeying_request", title = "PROSE DIRECT LINK RE-KEYING REQUEST", status = "provisional", ies = {
      { fmt = "lv", name = "ue_security_capabilities", type = "uesc", size = 2 },
      { fmt = "v", name = "nonce_1", type = "bytes", size = 16 },
      { fmt = "v", name = "msb_knrp_sess_id", type = "u8", size = 1 },
      { fmt = "tlve", iei = 0x74, name = "key_est_info", type = "key_est_info", size = 0 },
      { fmt = "t2", iei = 0xa1, name = "reauth_indication", type = "flag", size = 0 },
    } },
    [0x11] = { name = "rekeying_response", title = "PROSE DIRECT LINK RE-KEYING RESPONSE", status = "provisional", ies = {
    } },
    [0x12] = { name = "keepalive_request", title = "PROSE DIRECT LINK KEEPALIVE REQUEST", status = "provisional", ies = {
      { fmt = "v", name = "keepalive_counter", type = "u32", size = 4 },
      { fmt = "tv", iei = 0x5b, name = "max_inactivity_period", type = "u32", size = 4 },
    } },
    [0x13] = { name = "keepalive_response", title = "PROSE DIRECT LINK KEEPALIVE RESPONSE", status = "provisional", ies = {
      { fmt = "v", name = "keepalive_counter", type = "u32", size = 4 },
    } },
    [0x20] = { name = "u2u_relay_discovery_announcement", title = "UE-to-UE relay discovery announcement (Model A)", status = "provisional", ies = {
      { fmt = "v", name = "relay_service_code", type = "u24", size = 3 },
      { fmt = "lv", name = "relay_user_info", type = "bytes", size = 0 },
      { fmt = "tlv", iei = 0x2e, name = "end_ue_user_info_list", type = "bytes", size = 0 },
      { fmt = "tlve", iei = 0x75, name = "authentication_info", type = "authentication_info", size = 0 },
    } },
    [0x21] = { name = "u2u_relay_discovery_solicitation", title = "UE-to-UE relay discovery solicitation (Model B)", status = "provisional", ies = {
      { fmt = "v", name = "relay_service_code", type = "u24", size = 3 },
      { fmt = "lv", name = "discoverer_user_info", type = "bytes", size = 0 },
      { fmt = "tlv", iei = 0x28, name = "target_user_info", type = "bytes", size = 0 },
    } },
    [0x22] = { name = "u2u_relay_discovery_response", title = "UE-to-UE relay discovery response (Model B)", status = "provisional", ies = {
      { fmt = "v", name = "relay_service_code", type = "u24", size = 3 },
      { fmt = "lv", name = "relay_user_info", type = "bytes", size = 0 },
      { fmt = "tlv", iei = 0x28, name = "target_user_info", type = "bytes", size = 0 },
      { fmt = "tlve", iei = 0x75, name = "authentication_info", type = "authentication_info", size = 0 },
    } },
  },
  code_points = {
    ["message type"] = {
      [0] = { name = "reserved", status = "provisional" },
      [1] = { name = "establishment_request", status = "confirmed" },
      [2] = { name = "establishment_accept", status = "confirmed" },
      [3] = { name = "establishment_reject", status = "code-only" },
      [4] = { name = "modification_request", status = "code-only" },
      [5] = { name = "modification_accept", status = "code-only" },
      [6] = { name = "modification_reject", status = "code-only" },
      [7] = { name = "release_request", status = "code-only" },
      [8] = { name = "release_accept", status = "code-only" },
      [9] = { name = "authentication_request", status = "provisional" },
      [10] = { name = "authentication_response", status = "provisional" },
      [11] = { name = "authentication_reject", status = "provisional" },
      [12] = { name = "authentication_failure", status = "provisional" },
      [13] = { name = "security_mode_command", status = "provisional" },
      [14] = { name = "security_mode_complete", status = "provisional" },
      [15] = { name = "security_mode_reject", status = "provisional" },
      [16] = { name = "rekeying_request", status = "provisional" },
      [17] = { name = "rekeying_response", status = "provisional" },
      [18] = { name = "keepalive_request", status = "provisional" },
      [19] = { name = "keepalive_response", status = "provisional" },
      [32] = { name = "u2u_relay_discovery_announcement", status = "provisional" },
      [33] = { name = "u2u_relay_discovery_solicitation", status = "provisional" },
      [34] = { name = "u2u_relay_discovery_response", status = "provisional" },
    },
    ["IEI"] = {
      [40] = { name = "target_user_info", status = "confirmed" },
      [41] = { name = "u2u_relay_ue_user_info", status = "provisional" },
      [42] = { name = "target_end_ue_l2_id", status = "provisional" },
      [43] = { name = "relay_service_code", status = "provisional" },
      [44] = { name = "multi_hop_path_info", status = "provisional" },
      [46] = { name = "end_ue_user_info_list", status = "provisional" },
      [82] = { name = "knrp_id", status = "provisional" },
      [83] = { name = "nonce_1", status = "provisional" },
      [84] = { name = "msb_knrp_sess_id", status = "provisional" },
      [87] = { name = "msb_knrp_id", status = "provisional" },
      [88] = { name = "lsb_knrp_id", status = "provisional" },
      [91] = { name = "max_inactivity_period", status = "provisional" },
      [116] = { name = "key_est_info", status = "provisional" },
      [117] = { name = "authentication_info", status = "provisional" },
      [118] = { name = "relay_authentication_info", status = "provisional" },
      [161] = { name = "reauth_indication", status = "provisional" },
      [176] = { name = "relay_indication", status = "provisional" },
    },
    ["PC5 signalling cause"] = {
      [0] = { name = "reserved", status = "provisional" },
      [1] = { name = "direct_communication_not_allowed", status = "code-only" },
      [2] = { name = "direct_communication_no_longer_needed", status = "code-only" },
      [3] = { name = "l2_id_conflict", status = "code-only" },
      [4] = { name = "direct_connection_not_available", status = "code-only" },
      [5] = { name = "lack_of_resources", status = "code-only" },
      [6] = { name = "authentication_failure", status = "code-only" },
      [7] = { name = "integrity_failure", status = "code-only" },
      [8] = { name = "ue_security_capabilities_mismatch", status = "code-only" },
      [9] = { name = "lsb_knrp_sess_id_conflict", status = "code-only" },
      [10] = { name = "signalling_security_policy_mismatch", status = "code-only" },
      [11] = { name = "required_service_not_allowed", status = "code-only" },
      [12] = { name = "security_policy_not_aligned", status = "code-only" },
      [13] = { name = "congestion", status = "code-only" },
      [14] = { name = "authentication_synchronisation_error", status = "code-only" },
      [111] = { name = "protocol_error_unspecified", status = "code-only" },
    },
    ["algorithm identity"] = {
      [0] = { name = "nea0_nia0", status = "confirmed" },
      [1] = { name = "nea1_nia1", status = "confirmed" },
      [2] = { name = "nea2_nia2", status = "confirmed" },
      [3] = { name = "nea3_nia3", status = "confirmed" },
    },
    ["signalling security policy value"] = {
      [0] = { name = "not_needed", status = "confirmed" },
      [1] = { name = "preferred", status = "provisional" },
      [2] = { name = "required", status = "provisional" },
    },
    ["relay indication"] = {
      [0] = { name = "direct", status = "provisional" },
      [1] = { name = "via_layer2_relay", status = "provisional" },
      [2] = { name = "via_layer3_relay", status = "provisional" },
    },
    ["container version"] = {
      [1] = { name = "v1", status = "provisional" },
    },
    ["Key_Est_Info method"] = {
      [1] = { name = "certificate", status = "provisional" },
      [2] = { name = "psk", status = "provisional" },
      [3] = { name = "ephemeral", status = "provisional" },
    },
    ["Key_Est_Info tag"] = {
      [1] = { name = "certificate", status = "provisional" },
      [2] = { name = "ephemeral_public_key", status = "provisional" },
      [3] = { name = "signature", status = "provisional" },
      [4] = { name = "psk_identity", status = "provisional" },
      [5] = { name = "nonce", status = "provisional" },
      [6] = { name = "user_info_id", status = "provisional" },
    },
    ["Authentication_Info tag"] = {
      [1] = { name = "user_info_id", status = "provisional" },
      [2] = { name = "public_key", status = "provisional" },
      [3] = { name = "certificate", status = "provisional" },
      [4] = { name = "signature", status = "provisional" },
      [5] = { name = "signature_algorithm", status = "provisional" },
      [6] = { name = "nonce", status = "provisional" },
      [7] = { name = "ephemeral_public_key", status = "provisional" },
      [8] = { name = "selected_algorithms", status = "provisional" },
      [9] = { name = "signing_time", status = "provisional" },
    },
    ["signature algorithm"] = {
      [1] = { name = "ecdsa_p256_sha256", status = "provisional" },
      [2] = { name = "ed25519", status = "provisional" },
    },
  },
}
-- END GENERATED SCHEMA

local pc5s = Proto("pc5s", "PC5 signalling (pc5sec)")

local CP = SCHEMA.code_points
local function cp_name(kind, v)
  local row = CP[kind] and CP[kind][v]
  return row and row.name or "unknown", row and row.status or "unknown"
end
local function valstring(kind)
  local t = {}
  for v, row in pairs(CP[kind] or {}) do t[v] = row.name end
  return t
end

local F = {}
local fields = {}
local function add(abbr, field)
  if F[abbr] == nil then
    F[abbr] = field
    table.insert(fields, field)
  end
end

-- frame header
add("hdr.version", ProtoField.uint8("pc5s.hdr.version", "Frame header version", base.DEC))
add("hdr.length", ProtoField.uint8("pc5s.hdr.length", "Frame header length", base.DEC))
add("hdr.sender_l2_id", ProtoField.uint24("pc5s.hdr.sender_l2_id", "Sender layer-2 ID", base.DEC))
add("hdr.receiver_l2_id", ProtoField.uint24("pc5s.hdr.receiver_l2_id", "Receiver layer-2 ID", base.DEC))
add("hdr.hop", ProtoField.uint8("pc5s.hdr.hop", "Hop / link id", base.DEC))
add("hdr.direction", ProtoField.uint8("pc5s.hdr.direction", "Direction", base.DEC,
    { [0] = "sent by the initiating UE", [1] = "sent by the peer UE" }))
add("hdr.lcid", ProtoField.uint8("pc5s.hdr.lcid", "LCID", base.DEC))
add("hdr.flags", ProtoField.uint8("pc5s.hdr.flags", "Flags", base.HEX))
add("hdr.flags.integrity", ProtoField.uint8("pc5s.hdr.flags.integrity", "Integrity protected", base.DEC, nil, 0x01))
add("hdr.flags.ciphered", ProtoField.uint8("pc5s.hdr.flags.ciphered", "Ciphered", base.DEC, nil, 0x02))
add("hdr.flags.via_relay", ProtoField.uint8("pc5s.hdr.flags.via_relay", "Hop of a relayed path", base.DEC, nil, 0x04))
add("hdr.flags.on_air", ProtoField.uint8("pc5s.hdr.flags.on_air", "PDU as on the air", base.DEC, nil, 0x08))
-- on-air PDUs (flag 0x08): SRAP (TS 38.351), data PDU (docs/userplane.md), PDCP PC5-S PDU
add("srap.dc", ProtoField.uint8("pc5s.srap.dc", "SRAP D/C", base.DEC, nil, 0x80))
add("srap.bearer", ProtoField.uint8("pc5s.srap.bearer", "SRAP bearer ID", base.DEC, nil, 0x1F))
add("srap.src_ue", ProtoField.uint8("pc5s.srap.src_ue", "Source local UE ID", base.DEC))
add("srap.dst_ue", ProtoField.uint8("pc5s.srap.dst_ue", "Destination local UE ID", base.DEC))
add("data.knrp_sess_id", ProtoField.uint16("pc5s.data.knrp_sess_id", "KNRP-sess ID", base.HEX))
add("data.dc", ProtoField.uint8("pc5s.data.dc", "D/C", base.DEC, nil, 0x80))
add("data.sn", ProtoField.uint24("pc5s.data.sn", "SN (18 bits)", base.DEC, nil, 0x03FFFF))
add("data.ciphered", ProtoField.bytes("pc5s.data.ciphered", "Ciphered payload and MAC-I"))
add("pdcp.knrp_sess_id", ProtoField.uint16("pc5s.pdcp.knrp_sess_id", "KNRP-sess ID", base.HEX))
add("pdcp.sn", ProtoField.uint16("pc5s.pdcp.sn", "SN (12 bits)", base.DEC, nil, 0x0FFF))
add("pdcp.ciphered", ProtoField.bytes("pc5s.pdcp.ciphered", "Protected PC5-S message and MAC-I"))
-- message header
add("msg_type", ProtoField.uint8("pc5s.msg_type", "Message type", base.DEC, valstring("message type")))
add("msg_name", ProtoField.string("pc5s.msg_name", "Message name"))
add("seq", ProtoField.uint8("pc5s.seq", "Sequence number", base.DEC))
add("provisional", ProtoField.string("pc5s.provisional", "Provisional code point"))
add("unknown_iei", ProtoField.uint8("pc5s.unknown_iei", "Unknown IEI (skipped)", base.HEX))

local CONTAINER_FIELDS = {
  key_est_info = {
    { "version", "uint8" }, { "method", "uint8" }, { "certificate", "bytes" },
    { "ephemeral_public_key", "bytes" }, { "signature", "bytes" }, { "psk_identity", "bytes" },
    { "nonce", "bytes" }, { "user_info_id", "bytes" },
  },
  authentication_info = {
    { "version", "uint8" }, { "user_info_id", "bytes" }, { "public_key", "bytes" },
    { "certificate", "bytes" }, { "signature_algorithm", "uint8" }, { "signature", "bytes" },
    { "nonce", "bytes" }, { "ephemeral_public_key", "bytes" }, { "selected_algorithms", "uint8" },
  },
}

local function add_ie_fields(ie)
  local n, t = ie.name, ie.type
  if t == "u8" or t == "relay_indication" or t == "flag" then
    local vs = t == "relay_indication" and valstring("relay indication") or nil
    add(n, ProtoField.uint8("pc5s." .. n, n, base.DEC, vs))
  elseif t == "cause" then
    add(n, ProtoField.uint8("pc5s." .. n, n, base.DEC, valstring("PC5 signalling cause")))
  elseif t == "u16" then
    add(n, ProtoField.uint16("pc5s." .. n, n, base.DEC))
  elseif t == "u24" then
    add(n, ProtoField.uint24("pc5s." .. n, n, base.DEC))
  elseif t == "u32" then
    add(n, ProtoField.uint32("pc5s." .. n, n, base.DEC))
  elseif t == "bytes" then
    add(n, ProtoField.bytes("pc5s." .. n, n))
  elseif t == "uesc" then
    add(n .. ".ea", ProtoField.uint8("pc5s." .. n .. ".ea", "5G-EA bitmap (bit 8 = EA0)", base.DEC))
    add(n .. ".ia", ProtoField.uint8("pc5s." .. n .. ".ia", "5G-IA bitmap (bit 8 = IA0)", base.DEC))
  elseif t == "policy" or t == "algs" then
    local vs = t == "policy" and valstring("signalling security policy value") or nil
    add(n .. ".integrity", ProtoField.uint8("pc5s." .. n .. ".integrity", "integrity", base.DEC, vs))
    add(n .. ".ciphering", ProtoField.uint8("pc5s." .. n .. ".ciphering", "ciphering", base.DEC, vs))
  elseif CONTAINER_FIELDS[t] then
    for _, f in ipairs(CONTAINER_FIELDS[t]) do
      local abbr = n .. "." .. f[1]
      if f[2] == "uint8" then
        add(abbr, ProtoField.uint8("pc5s." .. abbr, f[1], base.DEC))
      else
        add(abbr, ProtoField.bytes("pc5s." .. abbr, f[1]))
      end
    end
  end
end

for _, msg in pairs(SCHEMA.messages) do
  for _, ie in ipairs(msg.ies) do add_ie_fields(ie) end
end
pc5s.fields = fields

local ef_provisional = ProtoExpert.new("pc5s.provisional.expert", "Provisional code point (chosen by pc5sec)",
  expert.group.ASSUMPTION, expert.severity.NOTE)
local ef_malformed = ProtoExpert.new("pc5s.malformed", "Malformed PC5 signalling message",
  expert.group.MALFORMED, expert.severity.ERROR)
pc5s.experts = { ef_provisional, ef_malformed }

local function mark(tree, item, status, what)
  if status == "provisional" then
    item:append_text(" [provisional]")
    item:add_proto_expert_info(ef_provisional, "Provisional code point: " .. what)
    tree:add(F["provisional"], what):set_generated()
  end
end

local function malformed(tree, what)
  tree:add_proto_expert_info(ef_malformed, what)
  return nil
end

-- Containers: version (and method), then tag (1) / length (2) / value items.
local function dissect_container(kind, name, tvb, tree)
  local ctree = tree
  if tvb:len() < 1 then return malformed(tree, name .. ": empty container") end
  ctree:add(F[name .. ".version"], tvb(0, 1))
  local off = 1
  local tag_kind, default_label
  if kind == "key_est_info" then
    if tvb:len() < 2 then return malformed(tree, name .. ": truncated") end
    local it = ctree:add(F[name .. ".method"], tvb(1, 1))
    local mname, mstatus = cp_name("Key_Est_Info method", tvb(1, 1):uint())
    it:append_text(" (" .. mname .. ")")
    mark(ctree, it, mstatus, name .. ".method")
    off = 2
    tag_kind = "Key_Est_Info tag"
  else
    tag_kind = "Authentication_Info tag"
  end
  while off < tvb:len() do
    if off + 3 > tvb:len() then return malformed(tree, name .. ": truncated item") end
    local tag = tvb(off, 1):uint()
    local len = tvb(off + 1, 2):uint()
    if off + 3 + len > tvb:len() then return malformed(tree, name .. ": item length past the end") end
    local tname = cp_name(tag_kind, tag)
    local f = F[name .. "." .. tname]
    if f then
      ctree:add(f, tvb(off + 3, len))
    else
      ctree:add(tvb(off, 3 + len), string.format("Unknown tag 0x%02x (skipped)", tag))
    end
    off = off + 3 + len
  end
  return true
end

-- Octets a value of each fixed-size type needs; a shorter value (a hostile LV or TLV length) is
-- malformed, never read past its end.
local VALUE_SIZE = { uesc = 2, policy = 1, algs = 1, cause = 1, u8 = 1, u16 = 2, u24 = 3, u32 = 4 }

local function dissect_value(ie, tvb, tree, label_item)
  local n, t = ie.name, ie.type
  local need = VALUE_SIZE[t]
  if need and tvb:len() < need then
    return malformed(tree, string.format("%s: %d octets, %d needed", n, tvb:len(), need))
  end
  if t == "uesc" then
    tree:add(F[n .. ".ea"], tvb(0, 1))
    tree:add(F[n .. ".ia"], tvb(1, 1))
  elseif t == "policy" then
    local v = tvb(0, 1):uint()
    tree:add(F[n .. ".integrity"], tvb(0, 1), v % 8)
    tree:add(F[n .. ".ciphering"], tvb(0, 1), math.floor(v / 16) % 8)
  elseif t == "algs" then
    local v = tvb(0, 1):uint()
    tree:add(F[n .. ".ciphering"], tvb(0, 1), math.floor(v / 16))
    tree:add(F[n .. ".integrity"], tvb(0, 1), v % 16)
  elseif t == "key_est_info" or t == "authentication_info" then
    dissect_container(t, n, tvb, tree)
  else
    local it = tree:add(F[n], tvb())
    if t == "cause" then
      local _, status = cp_name("PC5 signalling cause", tvb(0, 1):uint())
      mark(tree, it, status, n)
    end
  end
end

-- One PC5 signalling message (octet 1 type, octet 2 sequence number, then the IEs).
local function dissect_message(m, pinfo, tree)
  if m:len() < 2 then return malformed(tree, "message truncated") end
  local mt = m(0, 1):uint()
  local msg = SCHEMA.messages[mt]
  local mtree = tree:add(m(), msg and msg.title or string.format("Unknown message type 0x%02x", mt))
  local ti = mtree:add(F["msg_type"], m(0, 1))
  mtree:add(F["seq"], m(1, 1))
  if not msg then return malformed(mtree, "unknown message type") end
  mtree:add(F["msg_name"], msg.name):set_generated()
  mark(mtree, ti, msg.status, "msg_type")
  pinfo.cols.info = string.format("%s seq=%d", msg.title, m(1, 1):uint())

  local off = 2
  local optional = {}
  for _, ie in ipairs(msg.ies) do
    if ie.fmt == "v" or ie.fmt == "lv" or ie.fmt == "lve" then
      local len = ie.size
      local start = off
      if ie.fmt ~= "v" then
        local lo = ie.fmt == "lv" and 1 or 2
        if off + lo > m:len() then return malformed(mtree, ie.name .. ": missing") end
        len = m(off, lo):uint()
        start = off + lo
      end
      if start + len > m:len() then return malformed(mtree, ie.name .. ": truncated") end
      local it = mtree:add(m(off, start - off + len), ie.name)
      dissect_value(ie, m(start, len):tvb(), it, it)
      off = start + len
    else
      optional[ie.iei] = ie
    end
  end
  while off < m:len() do
    local iei = m(off, 1):uint()
    local ie = optional[iei]
    if ie == nil and iei >= 0x80 then ie = optional[iei - (iei % 16)] end
    if ie and ie.fmt == "t1" then
      local it = mtree:add(F[ie.name], m(off, 1), iei % 16)
      local _, status = cp_name("IEI", ie.iei)
      mark(mtree, it, status, ie.name)
      off = off + 1
    elseif ie and ie.fmt == "t2" then
      local it = mtree:add(F[ie.name], m(off, 1), 1)
      local _, status = cp_name("IEI", ie.iei)
      mark(mtree, it, status, ie.name)
      off = off + 1
    elseif ie then
      local len, start = ie.size, off + 1
      if ie.fmt == "tlv" or ie.fmt == "tlve" then
        local lo = ie.fmt == "tlv" and 1 or 2
        if off + 1 + lo > m:len() then return malformed(mtree, ie.name .. ": truncated") end
        len = m(off + 1, lo):uint()
        start = off + 1 + lo
      end
      if start + len > m:len() then return malformed(mtree, ie.name .. ": length past the end") end
      local it = mtree:add(m(off, start - off + len), string.format("%s (IEI 0x%02x)", ie.name, ie.iei))
      local _, status = cp_name("IEI", ie.iei)
      mark(mtree, it, status, ie.name)
      dissect_value(ie, m(start, len):tvb(), it, it)
      off = start + len
    else
      -- Unknown IE, skipped as TS 24.007 says (docs/code-points.md).
      mtree:add(F["unknown_iei"], m(off, 1))
      if iei >= 0x80 then
        off = off + 1
      else
        local lo = (math.floor(iei / 16) == 7) and 2 or 1
        if off + 1 + lo > m:len() then return malformed(mtree, "unknown IE truncated") end
        off = off + 1 + lo + m(off + 1, lo):uint()
      end
    end
  end
  return true
end

-- A data PDU (docs/userplane.md): KNRP-sess ID (16), D/C | R x5 | SN (18), then the payload and
-- MAC-I, ciphered. `pc5sec decode --pcap F --keylog K` deciphers them.
local function dissect_data(m, off, pinfo, tree, bearer)
  local dtree = tree:add(m(off), string.format("Data PDU (bearer %d)", bearer))
  if m:len() - off < 5 then return malformed(dtree, "data PDU header truncated") end
  dtree:add(F["data.knrp_sess_id"], m(off, 2))
  dtree:add(F["data.dc"], m(off + 2, 1))
  dtree:add(F["data.sn"], m(off + 2, 3))
  if m:len() > off + 5 then dtree:add(F["data.ciphered"], m(off + 5)) end
  pinfo.cols.info = string.format("Data PDU bearer %d KNRP-sess ID 0x%04x SN %d", bearer,
    m(off, 2):uint(), m(off + 2, 3):uint() % 0x40000)
  return true
end

-- A PDCP-protected PC5-S PDU (include/pc5sec/pdcp.hpp): KNRP-sess ID (16), R x4 | SN (12), then
-- the message and MAC-I (ciphered, except the security mode command). `clear`: the frame header
-- (version 2) says integrity only, not ciphered: the message is read as an eavesdropper reads it.
local function dissect_pdcp(m, off, pinfo, tree, bearer, clear)
  local ptree = tree:add(m(off), string.format("Protected PC5-S PDU (bearer %d)", bearer))
  if m:len() - off < 8 then return malformed(ptree, "PDCP PDU truncated") end
  ptree:add(F["pdcp.knrp_sess_id"], m(off, 2))
  ptree:add(F["pdcp.sn"], m(off + 2, 2))
  if clear and m:len() - off > 9 then
    dissect_message(m(off + 4, m:len() - off - 8):tvb(), pinfo, ptree)
    ptree:add(m(m:len() - 4, 4), "MAC-I (integrity-protected, not ciphered)")
    return true
  end
  ptree:add(F["pdcp.ciphered"], m(off + 4))
  pinfo.cols.info = string.format("Protected PC5-S bearer %d KNRP-sess ID 0x%04x SN %d", bearer,
    m(off, 2):uint(), m(off + 2, 2):uint() % 0x1000)
  return true
end

-- A PDU as it went on the air (frame header flag 0x08, docs/pcap-format.md).
local function dissect_on_air(m, pinfo, tree, lcid, clear)
  if lcid >= 4 and lcid <= 19 then
    return dissect_data(m, 0, pinfo, tree, lcid)
  elseif lcid == 55 then
    if m:len() < 1 then return malformed(tree, "LCID 55 PDU empty") end
    local b0 = m(0, 1):uint()
    if b0 >= 0x80 and (b0 % 0x80) < 0x20 and m:len() >= 3 then
      -- SRAP (TS 38.351): D/C = 1, R R = 0, bearer ID, source and destination local UE IDs.
      local bearer = b0 % 0x20
      local stree = tree:add(m(0, 3), "SRAP header")
      stree:add(F["srap.dc"], m(0, 1))
      stree:add(F["srap.bearer"], m(0, 1))
      stree:add(F["srap.src_ue"], m(1, 1))
      stree:add(F["srap.dst_ue"], m(2, 1))
      if bearer >= 4 then return dissect_data(m, 3, pinfo, tree, bearer) end
      if bearer == 1 or bearer == 2 then return dissect_pdcp(m, 3, pinfo, tree, bearer, clear) end
      if bearer == 0 then
        if m:len() < 5 then return malformed(tree, "SL-SRB0 message truncated") end
        return dissect_message(m(3):tvb(), pinfo, tree)
      end
      if m:len() > 3 then tree:add(m(3), "PC5-RRC") end
      return true
    end
    -- LCID 55 is the relay's adaptation layer in both solutions: SRAP first, always.
    return malformed(tree, "SRAP header: D/C must be 1 and R R 0, 3 octets (TS 38.351)")
  elseif lcid == 1 or lcid == 2 then
    return dissect_pdcp(m, 0, pinfo, tree, lcid, clear)
  elseif lcid == 0 or lcid == 63 then
    return dissect_message(m, pinfo, tree)
  end
  if m:len() > 0 then tree:add(m(), string.format("LCID %d PDU", lcid)) end
  return true
end

function pc5s.dissector(tvb, pinfo, root)
  pinfo.cols.protocol = "PC5-S"
  local tree = root:add(pc5s, tvb())
  if tvb:len() < 12 then return malformed(tree, "frame header truncated") end
  local hlen = tvb(1, 1):uint()
  if hlen < 12 or hlen > tvb:len() then return malformed(tree, "frame header length") end
  local htree = tree:add(tvb(0, hlen), "pc5sec frame header")
  htree:add(F["hdr.version"], tvb(0, 1))
  htree:add(F["hdr.length"], tvb(1, 1))
  htree:add(F["hdr.sender_l2_id"], tvb(2, 3))
  htree:add(F["hdr.receiver_l2_id"], tvb(5, 3))
  htree:add(F["hdr.hop"], tvb(8, 1))
  htree:add(F["hdr.direction"], tvb(9, 1))
  htree:add(F["hdr.lcid"], tvb(10, 1))
  local ftree = htree:add(F["hdr.flags"], tvb(11, 1))
  ftree:add(F["hdr.flags.integrity"], tvb(11, 1))
  ftree:add(F["hdr.flags.ciphered"], tvb(11, 1))
  ftree:add(F["hdr.flags.via_relay"], tvb(11, 1))
  ftree:add(F["hdr.flags.on_air"], tvb(11, 1))
  pinfo.cols.src = string.format("%06x", tvb(2, 3):uint())
  pinfo.cols.dst = string.format("%06x", tvb(5, 3):uint())

  local on_air = math.floor(tvb(11, 1):uint() / 8) % 2 == 1
  if hlen == tvb:len() then
    if on_air then return tvb:len() end
    return malformed(tree, "message truncated")
  end
  local m = tvb(hlen):tvb()
  if on_air then
    -- Version 2 holds the air: flags integrity without ciphered mark a message in clear.
    local clear = tvb(0, 1):uint() >= 2 and tvb(11, 1):uint() % 4 == 1
    dissect_on_air(m, pinfo, tree, tvb(10, 1):uint(), clear)
  else
    dissect_message(m, pinfo, tree)
  end
  return tvb:len()
end

DissectorTable.get("wtap_encap"):add(wtap.USER0, pc5s)
