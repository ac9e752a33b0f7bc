#!/bin/sh
# Regenerates the seed corpora of fuzz/auth/ from ssh-keygen and ssh-agent
# output and from gen_userauth_corpus.c. Usage (from the source root, after
# building build-auth):  sh fuzz/auth/make_corpus.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-auth}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$here"
rm -rf corpus_authorized_keys corpus_privkey corpus_pubkey corpus_userauth_server corpus_agent
mkdir corpus_authorized_keys corpus_privkey corpus_pubkey corpus_userauth_server corpus_agent

# Private keys: small ones (fuzzing likes short inputs), every format;
# encrypted ones with passphrase "fuzz" and 2 bcrypt rounds (the harness
# tries that passphrase when the rounds are few).
k() { ssh-keygen -q "$@" -C fuzz; }
k -t ed25519 -N '' -f "$tmp/ed25519"
k -t ecdsa -b 256 -N '' -f "$tmp/ecdsa"
k -t rsa -b 1024 -N '' -f "$tmp/rsa"
k -t ed25519 -a 2 -N fuzz -f "$tmp/ed25519_ctr"
k -t ed25519 -a 2 -N fuzz -Z aes256-cbc -f "$tmp/ed25519_cbc"
k -t ed25519 -a 2 -N fuzz -Z aes256-gcm@openssh.com -f "$tmp/ed25519_gcm"
k -t ecdsa -b 256 -m PEM -N '' -f "$tmp/ecdsa_pem"
k -t ecdsa -b 256 -m PKCS8 -N '' -f "$tmp/ecdsa_pkcs8"
k -t rsa -b 1024 -m PEM -N '' -f "$tmp/rsa_pem"
k -t ecdsa -b 256 -m PEM -N fuzzfuzz -f "$tmp/ecdsa_pem_enc"
for f in ed25519 ecdsa rsa ed25519_ctr ed25519_cbc ed25519_gcm ecdsa_pem ecdsa_pkcs8 rsa_pem ecdsa_pem_enc; do
	cp "$tmp/$f" corpus_privkey/$f
done

# Public keys: one-line and RFC 4716.
for f in ed25519 ecdsa rsa; do
	cp "$tmp/$f.pub" corpus_pubkey/$f.pub
	ssh-keygen -e -f "$tmp/$f.pub" > corpus_pubkey/$f.rfc4716
done

# authorized_keys with options; known_hosts plain and hashed.
{
	echo "# comment"
	printf 'restrict,pty,command="echo \\"hi\\"",environment="A=1",rpc-allow="sys:*",rpc-deny="sys:sleep/1" %s' "$(cat "$tmp/ed25519.pub")"
	echo
	printf 'from="192.0.2.0/24,!192.0.2.1,*.example.org",expiry-time="20991231Z",permitopen="h:22" %s\n' "$(cat "$tmp/ecdsa.pub")"
	cat "$tmp/rsa.pub"
	echo 'no-such-option ssh-ed25519 AAAA'
} > corpus_authorized_keys/options
{
	printf 'host.example.org,192.0.2.1 %s\n' "$(cut -d' ' -f1,2 "$tmp/ed25519.pub")"
	printf '[host.example.org]:2222 %s\n' "$(cut -d' ' -f1,2 "$tmp/ecdsa.pub")"
	printf '@revoked * %s\n' "$(cut -d' ' -f1,2 "$tmp/rsa.pub")"
	printf '*.example.org,!x.example.org %s\n' "$(cut -d' ' -f1,2 "$tmp/ed25519.pub")"
} > "$tmp/known_hosts"
cp "$tmp/known_hosts" corpus_authorized_keys/known_hosts
ssh-keygen -q -H -f "$tmp/known_hosts" > /dev/null 2>&1
cat "$tmp/known_hosts" "$tmp/ed25519.pub" > corpus_authorized_keys/known_hosts_hashed

# Agent replies, as ssh-agent sends them for these keys.
python3 - "$tmp" corpus_agent <<'PY'
import base64, struct, sys
tmp, out = sys.argv[1], sys.argv[2]
def s(b): return struct.pack(">I", len(b)) + b
def frame(b): return struct.pack(">I", len(b)) + b
blobs = [base64.b64decode(open(f"{tmp}/{n}.pub").read().split()[1]) for n in ("ed25519", "ecdsa", "rsa")]
ans = bytes([12]) + struct.pack(">I", len(blobs)) + b"".join(s(b) + s(b"key %d" % i) for i, b in enumerate(blobs))
open(f"{out}/identities", "wb").write(frame(ans))
open(f"{out}/identities_empty", "wb").write(frame(bytes([12, 0, 0, 0, 0])))
open(f"{out}/failure", "wb").write(frame(bytes([5])))
sig = s(b"ssh-ed25519") + s(bytes(64))
open(f"{out}/sign_response", "wb").write(frame(bytes([14]) + s(sig)) + frame(bytes([5])))
PY

# Userauth message sequences.
cc -O1 -I"$root/include" -I"$build" "$here/gen_userauth_corpus.c" "$build/libsshrpc.a" -lcrypto -lz -ldl \
	-o "$tmp/gen"
"$tmp/gen" corpus_userauth_server
ls -l corpus_* | grep -c '^-' | sed 's/^/seed files: /'
