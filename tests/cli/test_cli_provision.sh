#!/usr/bin/env bash
# `pc5sec provision` as a user runs it: provision, inspect with openssl, add, revoke, bad input.
source "$(dirname "$0")/lib.sh"

out="$tmp/creds"
if "$bin" provision --out "$out" --ue alice:end-ue:rsc=0x000001 --ue relay1:relay:rsc=0x000001 \
    --ue bob:end-ue:rsc=0x000001 --valid-days 30 >"$tmp/log" 2>&1; then ok; else bad "provision rc"; cat "$tmp/log"; fi
for f in ca/ca.pem ca/ca.key.pem alice/key.pem alice/cert.pem alice/ca.pem alice/policy.toml \
         relay1/cert.pem bob/cert.pem; do
    if [ -s "$out/$f" ]; then ok; else bad "missing $f"; fi
done
for f in alice/key.pem ca/ca.key.pem; do
    mode=$(stat -c %a "$out/$f")
    if [ "$mode" == "600" ]; then ok; else bad "$f mode $mode, wanted 600"; fi
done

text=$(openssl x509 -in "$out/alice/cert.pem" -text -noout 2>&1)
check_has subject "$text" "Subject: CN = alice"
check_has issuer "$text" "Issuer: CN = pc5sec provisioning CA"
check_has extension "$text" "1.3.6.1.4.1.55555.5.1"
check_has ca-false "$text" "CA:FALSE"
check_has key-usage "$text" "Digital Signature"
check_has p256 "$text" "NIST CURVE: P-256"
# The extension's DER: SEQUENCE { INTEGER 1, SEQUENCE { ENUMERATED 1 }, SEQUENCE { INTEGER 1 } }
ext_hex=$(openssl x509 -in "$out/relay1/cert.pem" -outform DER | od -An -tx1 -v | tr -d ' \n')
check_has ext-der "$ext_hex" "300d02010130030a01023003020101"
for ue in alice relay1 bob; do
    if openssl verify -CAfile "$out/ca/ca.pem" "$out/$ue/cert.pem" >/dev/null 2>&1; then ok; else
        bad "openssl verify $ue"; fi
done
# The private key matches the certificate.
if [ "$(openssl pkey -in "$out/alice/key.pem" -pubout 2>/dev/null)" == \
     "$(openssl x509 -in "$out/alice/cert.pem" -pubkey -noout 2>/dev/null)" ]; then ok; else bad "key matches cert"; fi

# Discovery security material (docs/discovery.md): one set per RSC, in every UE's
# discovery.toml and in the CA's, all mode 0600, the same keys for every UE of the RSC.
for f in ca/discovery.toml alice/discovery.toml relay1/discovery.toml bob/discovery.toml; do
    mode=$(stat -c %a "$out/$f" 2>/dev/null)
    [ "$mode" == "600" ] && ok || bad "$f mode '$mode', wanted 600"
done
dusk() { grep '^dusk' "$out/$1/discovery.toml"; }
[ -n "$(dusk alice)" ] && [ "$(dusk alice)" == "$(dusk bob)" ] && [ "$(dusk alice)" == "$(dusk ca)" ] && ok ||
    bad "alice, bob and the CA hold different discovery material"
grep -q '^code = 0x000001' "$out/alice/discovery.toml" && ok || bad "discovery.toml: RSC"

# Adding a UE reuses the CA.
ca_before=$(sha256sum <"$out/ca/ca.pem")
msg=$("$bin" provision --out "$out" --ue carol:end-ue+relay:rsc=0x1,0xabcdef --key-type ed25519 2>&1)
check_has reuse-ca "$msg" "using CA"
check_has carol-roles "$msg" "end-ue+u2u-relay; rsc 0x000001,0xabcdef"
if [ "$ca_before" == "$(sha256sum <"$out/ca/ca.pem")" ]; then ok; else bad "CA changed"; fi
if openssl verify -CAfile "$out/ca/ca.pem" "$out/carol/cert.pem" >/dev/null 2>&1; then ok; else bad "verify carol"; fi
check_has ed25519 "$(openssl x509 -in "$out/carol/cert.pem" -text -noout)" "ED25519"
# carol, added later, shares RSC 1's discovery material and gets new material for 0xabcdef.
[ "$(grep -c '^\[\[rsc\]\]' "$out/carol/discovery.toml")" == 2 ] && ok || bad "carol: two RSCs' material"
grep -q "$(dusk alice)" "$out/carol/discovery.toml" && ok || bad "carol does not share RSC 1's material"

# Revocation: ca/crl.pem, copied to every UE, and openssl agrees.
msg=$("$bin" provision --out "$out" --revoke relay1 2>&1)
check_has revoke "$msg" "copied to 4 UE directories"
for f in ca/crl.pem alice/crl.pem bob/crl.pem relay1/crl.pem carol/crl.pem; do
    if [ -s "$out/$f" ]; then ok; else bad "missing $f"; fi
done
err=$(openssl verify -crl_check -CAfile "$out/ca/ca.pem" -CRLfile "$out/alice/crl.pem" "$out/relay1/cert.pem" 2>&1)
check_has revoked "$err" "certificate revoked"
if openssl verify -crl_check -CAfile "$out/ca/ca.pem" -CRLfile "$out/alice/crl.pem" "$out/alice/cert.pem" >/dev/null 2>&1; then
    ok; else bad "alice after revocation"; fi
check_has crl-number "$(openssl crl -in "$out/ca/crl.pem" -text -noout)" "X509v3 CRL Number"
msg=$("$bin" provision --out "$out" --revoke bob 2>&1)
check_has crl-number-2 "$msg" "(number 2)"
# A UE added after a revocation gets the list too.
"$bin" provision --out "$out" --ue dave:end-ue:rsc=1 >/dev/null 2>&1
if [ -s "$out/dave/crl.pem" ]; then ok; else bad "dave has no crl.pem"; fi

# Expired and not-yet-valid certificates for tests.
old="$tmp/old"
"$bin" provision --out "$old" --ue olga:end-ue:rsc=1 --not-before 2020-01-01 --valid-days 1 >/dev/null 2>&1
check_has expired "$(openssl verify -CAfile "$old/ca/ca.pem" "$old/olga/cert.pem" 2>&1)" "certificate has expired"
check_has not-before-date "$(openssl x509 -in "$old/olga/cert.pem" -noout -startdate)" "Jan  1 00:00:00 2020 GMT"
future="$tmp/future"
"$bin" provision --out "$future" --ue nina:end-ue:rsc=1 --not-before 2100-01-01T00:00:00Z --valid-days 1 >/dev/null 2>&1
check_has not-yet-valid "$(openssl verify -CAfile "$future/ca/ca.pem" "$future/nina/cert.pem" 2>&1)" "not yet valid"

# `pc5sec creds check`: the decisions a UE takes from these files (exit 1 on "no", with the cause).
check_fail() {  # name needle command...
    local name="$1" needle="$2"; shift 2
    local err rc
    err=$("$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -eq 1 ] && [[ "$err" == *"$needle"* ]]; then ok; else
        bad "$name: rc=$rc stderr='$err' (wanted 1 and '$needle')"; fi
}
msg=$("$bin" creds check --bundle "$out/alice" --peer "$out/carol/cert.pem" --relay-rsc 0xabcdef --use-relay 1 --as-peer --target carol 2>&1)
check_has check-ok "$msg" "alice may use relay carol for RSC 0x000001: yes"
check_fail check-revoked "serialNumber: certificate of 'relay1'" "$bin" creds check --bundle "$out/alice" --peer "$out/relay1/cert.pem"
check_fail check-revoked-cause "(PC5 cause #6)" "$bin" creds check --bundle "$out/alice" --peer "$out/relay1/cert.pem"
check_fail check-wrong-rsc "carol/cert.pem: prose-authorisation.rscs" "$bin" creds check --bundle "$out/alice" --peer "$out/carol/cert.pem" --relay-rsc 2
check_fail check-wrong-rsc-cause "(PC5 cause #11)" "$bin" creds check --bundle "$out/alice" --peer "$out/carol/cert.pem" --relay-rsc 2
check_fail check-wrong-role "dave/cert.pem: prose-authorisation.roles" "$bin" creds check --bundle "$out/alice" --peer "$out/dave/cert.pem" --relay-rsc 1
check_fail check-target "subject: the target user info is 'bob'" "$bin" creds check --bundle "$out/alice" --peer "$out/dave/cert.pem" --target bob
check_fail check-other-ca "olga/cert.pem: issuer" "$bin" creds check --bundle "$out/alice" --peer "$old/olga/cert.pem"
check_fail check-own-expired "olga/cert.pem: notAfter" "$bin" creds check --bundle "$old/olga"
check_fail check-not-yet "nina/cert.pem: notBefore" "$bin" creds check --bundle "$future/nina"
if "$bin" creds check --bundle "$old/olga" --at 2020-01-01T12:00:00Z >/dev/null 2>&1; then ok; else bad "olga at a simulated time"; fi
cp "$out/bob/key.pem" "$tmp/bobkey.pem"; mkdir -p "$tmp/mixed"; cp "$out/alice/"*.pem "$out/alice/policy.toml" "$tmp/mixed/"; cp "$tmp/bobkey.pem" "$tmp/mixed/key.pem"
check_fail check-key-mismatch "mixed/key.pem: key" "$bin" creds check --bundle "$tmp/mixed"
check_exit 2 check-missing "nobody/key.pem" "$bin" creds check --bundle "$out/nobody"
check_exit 2 check-bad-at "--at" "$bin" creds check --bundle "$out/alice" --at never

# Group keys (PSK mode) and a policy template.
gk="$tmp/gk"
cat >"$tmp/policy.toml" <<'TOML'
[signalling]
integrity = "required"
ciphering = "required"
[algorithms]
ciphering = ["nea3", "nea2"]
integrity = ["nia3"]
TOML
msg=$("$bin" provision --out "$gk" --ue p1:end-ue:rsc=1 --ue p2:end-ue:rsc=1 --group-key fleet --policy "$tmp/policy.toml" 2>&1)
check_has gk-new "$msg" "group key fleet: new (fingerprint"
k1=$(grep '^"fleet"' "$gk/p1/policy.toml"); k2=$(grep '^"fleet"' "$gk/p2/policy.toml")
if [ -n "$k1" ] && [ "$k1" == "$k2" ]; then ok; else bad "group key differs: '$k1' '$k2'"; fi
hex=$(echo "$k1" | sed 's/.*= "\(.*\)"/\1/')
if [ ${#hex} -eq 64 ] && [[ "$msg" != *"$hex"* ]]; then ok; else bad "group key length ${#hex} or printed"; fi
for f in p1/policy.toml ca/group_keys.toml; do
    mode=$(stat -c %a "$gk/$f")
    if [ "$mode" == "600" ]; then ok; else bad "$f mode $mode, wanted 600"; fi
done
check_has policy-template "$(cat "$gk/p1/policy.toml")" 'ciphering = ["nea3", "nea2"]'
msg=$("$bin" provision --out "$gk" --ue p3:end-ue:rsc=1 --group-key fleet 2>&1)
check_has gk-reuse "$msg" "group key fleet: from"
if [ "$(grep '^"fleet"' "$gk/p3/policy.toml")" == "$k1" ]; then ok; else bad "p3 has another fleet key"; fi
if "$bin" creds check --bundle "$gk/p3" >/dev/null 2>&1; then ok; else bad "p3 bundle loads"; fi
echo 'integrity = "sometimes"' >"$tmp/badpolicy.toml"
check_exit 2 bad-policy "badpolicy.toml: integrity" "$bin" provision --out "$tmp/x" --ue a:end-ue:rsc=1 --policy "$tmp/badpolicy.toml"
check_exit 2 bad-group-name "--group-key" "$bin" provision --out "$tmp/x" --ue a:end-ue:rsc=1 --group-key "a b"

# Bad input: exit 2, the field named.
check_exit 2 no-action "--ue/--revoke" "$bin" provision --out "$tmp/x"
check_exit 2 bad-spec "--ue" "$bin" provision --out "$tmp/x" --ue alice
check_exit 2 bad-role "--ue alice: role" "$bin" provision --out "$tmp/x" --ue alice:king:rsc=1
check_exit 2 wide-rsc "--ue alice: rsc" "$bin" provision --out "$tmp/x" --ue alice:end-ue:rsc=0x1000000
check_exit 2 bad-rsc "--ue alice: rsc" "$bin" provision --out "$tmp/x" --ue alice:end-ue:rsc=zz
check_exit 2 rsc-prefix "--ue alice" "$bin" provision --out "$tmp/x" --ue alice:end-ue:code=1
check_exit 2 relay-no-rsc "--ue r: rsc" "$bin" provision --out "$tmp/x" --ue r:relay
check_exit 2 bad-name "--ue" "$bin" provision --out "$tmp/x" --ue ../evil:end-ue:rsc=1
check_exit 2 name-ca "--ue" "$bin" provision --out "$tmp/x" --ue ca:end-ue:rsc=1
check_exit 2 twice "given twice" "$bin" provision --out "$tmp/x" --ue a:end-ue:rsc=1 --ue a:end-ue:rsc=1
check_exit 2 exists "already holds credentials" "$bin" provision --out "$out" --ue alice:end-ue:rsc=1
check_exit 2 revoke-unknown "--revoke zoe" "$bin" provision --out "$out" --revoke zoe
check_exit 2 valid-days "--valid-days" "$bin" provision --out "$tmp/x" --ue a:end-ue:rsc=1 --valid-days -3
check_exit 2 not-before "--not-before" "$bin" provision --out "$tmp/x" --ue a:end-ue:rsc=1 --not-before yesterday
check_exit 2 far-future "--not-before" "$bin" provision --out "$tmp/x" --ue a:end-ue:rsc=1 --not-before 2999-01-01
check_exit 2 key-type "--key-type" "$bin" provision --out "$tmp/x" --ue a:end-ue:rsc=1 --key-type rsa
check_exit 2 key-x25519 "--key-type" "$bin" provision --out "$tmp/x" --ue a:end-ue:rsc=1 --key-type x25519
check_exit 2 missing-out "--out" "$bin" provision --ue a:end-ue:rsc=1
if [ ! -e "$tmp/x" ]; then ok; else bad "bad input wrote $tmp/x"; fi
# A damaged CA key is reported by file.
echo garbage >"$out/ca/ca.key.pem"
check_exit 2 ca-key "ca.key.pem" "$bin" provision --out "$out" --ue erin:end-ue:rsc=1

finish "cli provision"
