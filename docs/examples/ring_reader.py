#!/usr/bin/env python3
"""Read a syslet ring file, following docs/ABI.md only (Python 3.11, stdlib).

    ring_reader.py RING            observe: print the records between head and tail, move nothing
    ring_reader.py --consume RING  single consumer: print them and advance head past them
    ring_reader.py --header RING   print the header fields

One JSON line per delivered record: {"position": u32, "type": int, "payload_hex": "..."}.
Skip entries and padding records (aborted reservations) are walked over and not printed.
A file that is not a valid ring, or a damaged ring, exits with status 2 and a one-line message. An
observer that producers lap says so on stderr and goes on from head.

--consume advances head with a plain store. ABI.md section 9 allows that only when nobody else moves
head; with other consumers head must be moved with a compare-and-swap (a C helper).
"""
import argparse, json, mmap, struct, sys

MAGIC, ABI_VERSION, HEADER_LENGTH = 0x47525953, 1, 512          # section 3
KNOWN_INCOMPAT = 0                                               # version 1 defines no bits
TAIL_WORD, HEAD_CACHE, HEAD = 128, 256, 384                      # offsets of the hot words
OVERFLOW, WAITERS = 0x1, 0x2                                     # producer_flags bits
RECORD_HEADER, PADDING = 16, -1                                  # section 4.1
MASK32 = 0xFFFFFFFF


class BadRing(Exception):
    pass


def u32(m, off): return struct.unpack_from('<I', m, off)[0]
def i32(m, off): return struct.unpack_from('<i', m, off)[0]
def signed32(v): return v - (1 << 32) if v & 0x80000000 else v
def align8(n): return (n + 7) & ~7


def check(stamp, length, typ, salt):
    """check = ~stamp ^ (length * 0x9E3779B1) ^ type ^ salt, all modulo 2^32 (section 4.1)."""
    return (~stamp ^ (length * 0x9E3779B1) ^ typ ^ salt) & MASK32


def expect(field, found, ok, expected):
    if not ok:
        raise BadRing(f'{field}: found {found}, expected {expected}')


def validate(m):
    """The checks of section 3 'Validation', in that order. Returns the header fields."""
    expect('region length', len(m), len(m) >= HEADER_LENGTH, f'at least {HEADER_LENGTH}')
    magic = u32(m, 0)   # first, and (in C) with an acquire load: the formatter stores it last
    expect('magic', hex(magic), magic == MAGIC, hex(MAGIC))
    expect('abi_version', u32(m, 4), u32(m, 4) == ABI_VERSION, ABI_VERSION)
    expect('header_length', u32(m, 8), u32(m, 8) == HEADER_LENGTH, HEADER_LENGTH)
    cap = u32(m, 12)
    expect('capacity', cap, 256 <= cap <= 1 << 30 and cap & (cap - 1) == 0,
           'a power of two in [256, 2^30]')
    expect('region length', len(m), len(m) == HEADER_LENGTH + cap, HEADER_LENGTH + cap)
    expect('max_record_length', u32(m, 16), u32(m, 16) == cap // 8, cap // 8)
    for name, off in (('tail', TAIL_WORD), ('head_cache', HEAD_CACHE), ('head', HEAD)):
        expect(name, u32(m, off), u32(m, off) % 8 == 0, 'a multiple of 8')
    incompat = u32(m, 24)
    expect('incompat_features', hex(incompat), incompat & ~KNOWN_INCOMPAT == 0,
           f'no bits outside {hex(KNOWN_INCOMPAT)}')
    return {'magic': magic, 'abi_version': u32(m, 4), 'header_length': u32(m, 8),
            'capacity': cap, 'max_record_length': u32(m, 16), 'compat_features': u32(m, 20),
            'incompat_features': incompat, 'owner_flags': u32(m, 28),
            'initial_position': u32(m, 32), 'check_salt': u32(m, 36), 'tail': u32(m, TAIL_WORD),
            'producer_flags': u32(m, TAIL_WORD + 4), 'head_cache': u32(m, HEAD_CACHE),
            'head': u32(m, HEAD)}


class Ring:
    def __init__(self, m):
        self.m, self.hdr = m, validate(m)
        self.cap = self.hdr['capacity']
        self.mask = self.cap - 1
        # The atomic words are read and written whole through native (little-endian) views:
        # one aligned 32- or 64-bit access each, where struct would go byte by byte.
        self.w32, self.w64 = memoryview(m).cast('I'), memoryview(m).cast('Q')

    def head(self): return self.w32[HEAD // 4]
    def set_head(self, p): self.w32[HEAD // 4] = p      # plain store: single consumer only
    def tail_word(self): w = self.w64[TAIL_WORD // 8]; return w & MASK32, w >> 32

    def lapped(self, p):
        """True if producers may have written over position p: tail is more than a lap past it."""
        tail, _ = self.tail_word()
        return (tail - p) & MASK32 > self.cap

    def entries(self, p):
        """Walk from position p toward tail. Yields (position, next_position, record), where record
        is (type, payload) or None for a skip entry or a padding record. Stops at tail or at the
        first entry that is not committed yet (an in-flight reservation). An observer that falls
        more than a lap behind tail (consumers let producers overwrite what it had not read yet)
        reports the bytes it missed on stderr and goes on from head (section 9)."""
        while True:
            tail, _ = self.tail_word()
            if p == tail:
                return
            if (tail - p) & MASK32 > self.cap:               # lapped: start again from head
                head = self.head()
                print(f'ring_reader: lapped at position {p}: {(head - p) & MASK32} bytes '
                      f'overwritten before they were read; going on from head {head}',
                      file=sys.stderr)
                p = head
                continue
            if p % 8:
                raise BadRing(f'ring damaged: position {p} is not 8-aligned')
            off = HEADER_LENGTH + (p & self.mask)
            word = self.w64[off // 8]                       # the commit word, in one load
            stamp, length = word & MASK32, signed32(word >> 32)
            salt = self.hdr['check_salt']
            if length == 0 or stamp != (p ^ salt if length < 0 else p):
                if self.lapped(p):                           # a later lap's entry: start again
                    continue
                return                                      # reserved, not committed: stop here
            if length < 0:                                  # skip entry (its stamp is p ^ salt)
                if -length != self.cap - (p & self.mask):    # not a valid skip: not committed
                    if self.lapped(p):                       # (sections 4.2, 6); overwritten?
                        continue
                    return
                yield p, (p - length) & MASK32, None
                p = (p - length) & MASK32
                continue
            typ, chk = i32(self.m, off + 8), u32(self.m, off + 12)
            if not RECORD_HEADER <= length <= self.hdr['max_record_length'] \
                    or length > self.cap - (p & self.mask) or chk != check(p, length, typ, salt):
                if self.lapped(p):                           # overwritten meanwhile
                    continue
                return                                      # not committed yet (section 6): stop
            nxt = (p + align8(length)) & MASK32
            payload = bytes(self.m[off + RECORD_HEADER:off + length])   # copy first, ...
            if self.lapped(p):                              # ... then check nobody wrote over it
                continue
            yield p, nxt, None if typ == PADDING else (typ, payload)
            p = nxt


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('ring', help='path of the ring file')
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument('--consume', action='store_true', help='advance head past what is printed')
    mode.add_argument('--header', action='store_true', help='print the header fields as JSON')
    args = ap.parse_args(argv)
    if sys.byteorder != 'little':
        sys.exit('ring_reader: the ring ABI is little-endian only')
    try:
        with open(args.ring, 'r+b' if args.consume else 'rb') as f:
            size = f.seek(0, 2)
            expect('region length', size, size >= HEADER_LENGTH, f'at least {HEADER_LENGTH}')
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_WRITE if args.consume
                          else mmap.ACCESS_READ)
        ring = Ring(m)
        if args.header:
            print(json.dumps(ring.hdr))
            return 0
        for pos, nxt, record in ring.entries(ring.head()):
            if args.consume:
                ring.set_head(nxt)                          # ... then claim
            if record is not None:
                print(json.dumps({'position': pos, 'type': record[0],
                                  'payload_hex': record[1].hex()}), flush=True)
        if ring.tail_word()[1] & OVERFLOW:
            print('ring_reader: OVERFLOW is set: more entries wait in the owner\'s overflow '
                  'list; only the owning process can flush them', file=sys.stderr)
        return 0
    except (BadRing, OSError, ValueError) as e:
        print(f'ring_reader: bad ring file {args.ring}: {e}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
