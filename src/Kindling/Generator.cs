namespace Kindling;

/// <summary>
/// A seeded random-number generator (xoshiro256** seeded through SplitMix64) whose streams are defined bit for bit,
/// so the same seed gives the same numbers on every machine. Safe to share between threads, like PyTorch's generators:
/// every draw holds the generator's lock, and a tensor-filling operation (<see cref="Tensor.Rand"/>,
/// <see cref="Tensor.Randn"/>, <see cref="Tensor.RandPerm"/>, the <c>Init</c> functions, a DataLoader's shuffle) holds it
/// for the whole fill, so each operation takes one unbroken stretch of the stream. Which stretch a thread gets depends on
/// timing, so code that needs reproducible numbers under parallelism gives each thread its own generator.
/// </summary>
public sealed class Generator
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;
    // Reentrant: a bulk fill holds it while the per-draw methods below take it again at little cost.
    private readonly Lock _sync = new();

    /// <summary>The lock a multi-draw operation holds so its draws are consecutive in the stream.</summary>
    internal Lock SyncRoot => _sync;

    /// <summary>The generator used when none is passed. Reseed it with <see cref="ManualSeed"/> (PyTorch's <c>torch.manual_seed</c>).</summary>
    public static Generator Default { get; } = new(0);

    /// <summary>Creates a generator seeded with <paramref name="seed"/>.</summary>
    public Generator(ulong seed) => ManualSeed(seed);

    /// <summary>Restarts the stream from <paramref name="seed"/>.</summary>
    public Generator ManualSeed(ulong seed)
    {
        lock (_sync) Seed(seed);
        return this;
    }

    private void Seed(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
        _spareNormal = null;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Next 64 uniformly random bits.</summary>
    public ulong NextUInt64()
    {
        lock (_sync) return Next();
    }

    private ulong Next()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform float in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, <paramref name="n"/>) without modulo bias (Lemire's method).</summary>
    public long NextInt64(long n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"NextInt64: the bound must be positive, got {n}.");
        ulong un = (ulong)n;
        ulong threshold = (0 - un) % un;
        lock (_sync)
        while (true)
        {
            ulong r = Next();
            ulong hi = Math.BigMul(r, un, out ulong lo);
            if (lo >= threshold) return (long)hi;
        }
    }

    /// <summary>Standard normal sample (Box–Muller in double precision; the second value of each pair is kept).</summary>
    public double NextNormal()
    {
        lock (_sync) return Normal();
    }

    private double Normal()
    {
        if (_spareNormal is double s) { _spareNormal = null; return s; }
        double u1 = 1.0 - NextDouble(); // (0, 1]: log is finite
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }
}
