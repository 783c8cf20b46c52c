#!/usr/bin/env bash
# `pc5sec crypto` as a user runs it: official values, bad input of every kind.
source "$(dirname "$0")/lib.sh"
check() {  # name expected command...: the command prints exactly `expected`
    local name="$1" expected="$2"; shift 2
    local got
    got=$("$@" 2>/dev/null)
    if [ "$got" == "$expected" ]; then ok; else bad "$name: expected '$expected', got '$got'"; fi
}

K=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
N1=101112131415161718191a1b1c1d1e1f
N2=202122232425262728292a2b2c2d2e2f
S=098d8784bdaccc3e9a3dc6ea3a6c1f99f291f4bdb37ecd87fbd86a833a22e735
check knrp-sess $S "$bin" crypto knrp-sess --knrp $K --nonce1 $N1 --nonce2 $N2
check nrpek-2 008fdb67f92b79bb8deed45659bc5cd9 "$bin" crypto nrpek --knrp-sess $S --alg 2
check nrpik-0x3 b5228159b9cc86269fcc0c324b02adf0 "$bin" crypto nrpik --knrp-sess $S --alg 0x3

# TS 33.401 C.1 set 1 (128-EEA2, 253 bits), and back again.
C1=e9fed8a63d155304d71df20bf3e82214b20ed7dad2f233dc3c22d7bdeeed8e78
P1=981ba6824c1bfb1ab485472029b71d808ce33e2cc3c0b5fc1f3de8a6dc66b1f0
check nea2-set1 $C1 "$bin" crypto nea --alg 2 --key d3c5d592327fb11c4035c6680af8c6d1 --count 0x398a59b4 --bearer 0x15 --direction 1 --bits 253 --data $P1
check nea2-set1-inverse $P1 "$bin" crypto nea --alg 2 --key d3c5d592327fb11c4035c6680af8c6d1 --count 0x398a59b4 --bearer 0x15 --direction 1 --bits 253 --data $C1
check nea2-set1-openssl $C1 "$bin" crypto nea --alg 2 --backend openssl --key d3c5d592327fb11c4035c6680af8c6d1 --count 0x398a59b4 --bearer 0x15 --direction 1 --bits 253 --data $P1
# TS 33.401 C.2 set 1 (128-EIA2, 58 bits).
check nia2-set1 118c6eb8 "$bin" crypto nia --alg 2 --key 2bd6459f82c5b300952c49104881ff48 --count 0x38a6f056 --bearer 0x18 --direction 0 --bits 58 --data 3332346263393840
check nia2-set1-openssl 118c6eb8 "$bin" crypto nia --alg 2 --backend openssl --key 2bd6459f82c5b300952c49104881ff48 --count 0x38a6f056 --bearer 0x18 --direction 0 --bits 58 --data 3332346263393840
# TS 35.223 EIA3 set 1 (1 bit) on both ZUC implementations.
check nia3-set1 c8a9595e "$bin" crypto nia --alg 3 --key 00000000000000000000000000000000 --count 0 --bearer 0 --direction 0 --bits 1 --data 00
check nia3-set1-reference c8a9595e "$bin" crypto nia --alg 3 --backend reference --key 00000000000000000000000000000000 --count 0 --bearer 0 --direction 0 --bits 1 --data 00
check nia0 00000000 "$bin" crypto nia --alg 0 --key 00000000000000000000000000000000 --count 0 --bearer 0 --direction 0 --data 0102

A=(--key d3c5d592327fb11c4035c6680af8c6d1 --count 1 --direction 0 --data 00112233)
check_error bearer-range "--bearer" "$bin" crypto nea --alg 2 --bearer 32 "${A[@]}"
check_error direction-range "--direction" "$bin" crypto nea --alg 2 --key d3c5d592327fb11c4035c6680af8c6d1 --count 1 --bearer 1 --direction 2 --data 00
check_error unknown-alg "--alg" "$bin" crypto nia --alg 4 --bearer 1 "${A[@]}"
check_error short-key "--key" "$bin" crypto nea --alg 1 --key 00112233 --count 1 --bearer 1 --direction 0 --data 00
check_error length-too-long "--bits" "$bin" crypto nea --alg 3 --bits 33 --bearer 1 "${A[@]}"
check_error bad-hex "--data" "$bin" crypto nea --alg 2 --key d3c5d592327fb11c4035c6680af8c6d1 --count 1 --bearer 1 --direction 0 --data 0g
check_error odd-hex "--data" "$bin" crypto nea --alg 2 --key d3c5d592327fb11c4035c6680af8c6d1 --count 1 --bearer 1 --direction 0 --data 012
check_error bad-number "--count" "$bin" crypto nea --alg 2 --key d3c5d592327fb11c4035c6680af8c6d1 --count twelve --bearer 1 --direction 0 --data 01
check_error count-range "--count" "$bin" crypto nea --alg 2 --key d3c5d592327fb11c4035c6680af8c6d1 --count 0x100000000 --bearer 1 --direction 0 --data 01
check_error short-knrp "--knrp" "$bin" crypto knrp-sess --knrp 0011 --nonce1 $N1 --nonce2 $N2
check_error short-nonce "--nonce2" "$bin" crypto knrp-sess --knrp $K --nonce1 $N1 --nonce2 2021
check_error nrpek-alg "--alg" "$bin" crypto nrpek --knrp-sess $S --alg 7
check_error backend "backend" "$bin" crypto nea --alg 1 --backend openssl --bearer 1 "${A[@]}"
check_error missing "required" "$bin" crypto nea --alg 1

finish "cli crypto"
