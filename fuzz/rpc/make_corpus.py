#!/usr/bin/env python3
"""Regenerates the seed corpora of the rpc/ harnesses from the ETF test
vectors (tests/data/etf, a copy of ../shared/testdata/etf). Run from anywhere:
    python3 fuzz/rpc/make_corpus.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, '..', '..', 'tests', 'data', 'etf'))


def lines(name):
    with open(os.path.join(DATA, name), encoding='utf-8') as f:
        return [l.rstrip('\n').split('\t') for l in f if l.strip()]


def write(corpus, name, data):
    d = os.path.join(HERE, 'corpus_' + corpus)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def frame(b):
    return struct.pack('>I', len(b)) + b


def main():
    vec = lines('vectors.tsv')
    small = [(t, bytes.fromhex(h)) for t, h in vec if len(h) <= 2048]
    # etf: OTP's encodings, the invalid and lenient ones
    for i, (_, b) in enumerate(small):
        write('etf', 'vec%03d' % i, b)
    for f in ('minor_version_0.tsv', 'compressed.tsv'):
        for i, (_, h) in enumerate(lines(f)):
            if len(h) <= 4096:
                write('etf', '%s%03d' % (f[:5], i), bytes.fromhex(h))
    for i, l in enumerate(lines('invalid.tsv')):
        h = l[0] if len(l) == 2 else ''
        if len(h) <= 4096:
            write('etf', 'inv%03d' % i, bytes.fromhex(h))
    for i, l in enumerate(lines('lenient.tsv')):
        write('etf', 'len%03d' % i, bytes.fromhex(l[0]))
    # text: what ~p prints, plus what people type
    for i, (t, _) in enumerate(small):
        write('text', 'vec%03d' % i, t.encode())
    extra = ['16#ff.', "$a", '"a\\x{2713}b"', '<<"\\xe9"/utf8,1:3>>', "[1|[2]]", "'a\\'b'",
             'sys:echo(<<"abc">>).', "lists:reverse([1,2,3])", "m:f(#{a => [1.5e-3]}, -2#101)",
             "{a, % comment\n b}"]
    for i, t in enumerate(extra):
        write('text', 'extra%02d' % i, t.encode())
    # frame: piece size, limit, then frames (the last one cut short)
    stream = b''.join(frame(b) for _, b in small[:20])
    write('frame', 'twenty', bytes([7, 64]) + stream)
    write('frame', 'cut', bytes([1, 0]) + stream[:-3])
    write('frame', 'toolarge', bytes([3, 1]) + frame(b'\x83' + b'a' * 20))
    write('frame', 'empty', bytes([0, 0]) + frame(b'') * 3)
    # dispatch: request streams and exec commands
    reqs = [b for t, b in small if t.startswith(('{mfa,', '{call,', '{cast,'))]
    write('dispatch', 'requests', bytes([2 << 1]) + b''.join(frame(b) for b in reqs))
    write('dispatch', 'bytewise', bytes([0]) + b''.join(frame(b) for b in reqs[:4]))
    waits = ['{call,1,{fz,wait,[a]}}', '{mfa,{fz,wait,[b]}}', '{mfa,{sys,sleep,[5]}}', '{cast,{fz,wait,[c]}}']
    # the texts are ETF-encoded by hand: atoms as SMALL_ATOM_UTF8
    def atom(s):
        return b'\x77' + bytes([len(s)]) + s.encode()
    def t3(*e):
        return b'\x68' + bytes([len(e)]) + b''.join(e)
    def lst(*e):
        return (b'\x6c' + struct.pack('>I', len(e)) + b''.join(e) + b'\x6a') if e else b'\x6a'
    body = lambda m, f, *a: t3(atom(m), atom(f), lst(*a))
    msgs = [b'\x83' + t3(atom('call'), b'\x61\x01', body('fz', 'wait', atom('a'))),
            b'\x83' + t3(atom('mfa'), body('fz', 'wait', atom('b'))),
            b'\x83' + t3(atom('mfa'), body('sys', 'sleep', b'\x61\x05')),
            b'\x83' + t3(atom('cast'), body('fz', 'wait', atom('c'))),
            b'\x83' + t3(atom('mfa'), body('sys', 'sink', b'\x6d\x00\x00\x00\x01\x00')),
            b'\x83' + t3(atom('mfa'), body('sys', 'ping'))]
    write('dispatch', 'async', bytes([5 << 1]) + b''.join(frame(m) for m in msgs))
    del waits
    for i, c in enumerate(['{mfa,{sys,ping,[]}}.', 'sys:echo(<<"abc">>).', 'sys:sleep(10)', '{call,x,{sys,add,[1,2]}}',
                           'sys:nope()', '{cast,{fz,wait,[1]}}', 'fz:wait(2).', 'sys:sink(<<1>>).']):
        write('dispatch', 'exec%02d' % i, bytes([1]) + c.encode())


if __name__ == '__main__':
    main()
