"""Reference figures for the text-data tests (tests/Kindling.Tests/TextDataTests.cs), computed independently of
Kindling in plain Python from tiny-shakespeare (char-rnn's data/tinyshakespeare/input.txt, embedded in Kindling).

    python3 tools/parity/gen_text_baselines.py /path/to/input.txt > tools/parity/text/shakespeare_baselines.json

Split as nanoGPT: the first 90% of characters train; the remaining 10% is validation (first half) then test.
The n-gram model is add-alpha (Lidstone): P(w|h) = (c(h,w)+a)/(c(h)+a*V), scored on positions with a full context.
"""
import collections, hashlib, json, math, sys

text = open(sys.argv[1], encoding="utf-8").read()
vocab = sorted(set(text)); V = len(vocab); index = {c: i for i, c in enumerate(vocab)}
ids = [index[c] for c in text]
n = len(ids); ntr = int(n * 0.9); nval = (n - ntr) // 2
train, val, test, tail = ids[:ntr], ids[ntr:ntr + nval], ids[ntr + nval:], ids[ntr:]

def cross_entropy(order, alpha, data):
    c = order - 1; ctx = collections.Counter(); joint = collections.Counter()
    for i in range(c, len(train)):
        h = tuple(train[i - c:i]); ctx[h] += 1; joint[h + (train[i],)] += 1
    total = 0.0
    for i in range(c, len(data)):
        h = tuple(data[i - c:i]); total -= math.log((joint[h + (data[i],)] + alpha) / (ctx[h] + alpha * V))
    return total / (len(data) - c)

alphas = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
grid = {(o, a): cross_entropy(o, a, val) for o in range(1, 7) for a in alphas}
(bo, ba), bl = min(grid.items(), key=lambda kv: kv[1])
counts = collections.Counter(train)
json.dump({
    "chars": len(text), "vocab": V, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    "train": len(train), "validation": len(val), "test": len(test),
    "order5_alpha0.01_on_last10pct": cross_entropy(5, 0.01, tail),
    "selected_order": bo, "selected_alpha": ba, "selected_validation_loss": bl,
    "selected_test_loss": cross_entropy(bo, ba, test),
    "unigram_best_validation_loss": min(grid[(1, a)] for a in alphas),
    "unigram_entropy_train": -sum(k / len(train) * math.log(k / len(train)) for k in counts.values()),
}, sys.stdout, indent=1)
print()
