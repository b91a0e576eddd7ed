#!/usr/bin/python3
"""Independent re-implementation of opsbench's seeded random split, for the golden values in
tests/datasets/split_test.cpp ("the split of a seed is frozen across platforms").

std::mt19937_64 is written out from the C++ standard's definition ([rand.predef]: the 10000th
output of a default-seeded engine is 9981545732273789042, checked below); the bounded draw and the
Fisher-Yates loop follow core/include/opsbench/core/portable_random.h, the part sizes
datasets/src/split.cpp. Python integers make the arithmetic exact.
"""
MASK = (1 << 64) - 1


class MT19937_64:
    def __init__(self, seed):
        self.mt = [0] * 312
        self.mt[0] = seed & MASK
        for i in range(1, 312):
            self.mt[i] = (6364136223846793005 * (self.mt[i - 1] ^ (self.mt[i - 1] >> 62)) + i) & MASK
        self.index = 312

    def __call__(self):
        if self.index >= 312:
            for i in range(312):
                x = (self.mt[i] & 0xFFFFFFFF80000000) | (self.mt[(i + 1) % 312] & 0x7FFFFFFF)
                xa = x >> 1
                if x & 1:
                    xa ^= 0xB5026F5AA96619E9
                self.mt[i] = self.mt[(i + 156) % 312] ^ xa
            self.index = 0
        y = self.mt[self.index]
        self.index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & MASK


def uniform_below(engine, bound):
    reject_below = ((1 << 64) - bound) % bound
    x = engine()
    while x < reject_below:
        x = engine()
    return x % bound


def shuffle(items, engine):
    for i in range(len(items), 1, -1):
        j = uniform_below(engine, i)
        items[i - 1], items[j] = items[j], items[i - 1]


check = MT19937_64(5489)
for _ in range(9999):
    check()
assert check() == 9981545732273789042, "mt19937_64 does not match the C++ standard"

# split_rows(10 rows, random, 0.6/0.2/0.2, seed 42): sizes 6/2/2.
engine = MT19937_64(42)
order = list(range(10))
shuffle(order, engine)
print("train", sorted(order[:6]), "validation", sorted(order[6:8]), "test", sorted(order[8:]))
