using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kindling.Kernels;

/// <summary>The SIMD width the kernels run at.</summary>
internal enum IsaLevel
{
    /// <summary>Plain scalar loops (and GEMM's portable Vector128 micro-kernel, which needs no FMA).</summary>
    Scalar = 0,
    /// <summary>128-bit vectors (x86: SSE, with fused multiply-add where the CPU has it, emulated exactly elsewhere; ARM64: AdvSimd).</summary>
    Vector128 = 128,
    /// <summary>256-bit vectors with fused multiply-add (x86: AVX2 + FMA).</summary>
    Vector256 = 256,
    /// <summary>512-bit vectors (x86: AVX-512F).</summary>
    Vector512 = 512,
}

/// <summary>
/// The one place that decides which SIMD width the kernels use (TensorPrimitives' drivers, by contrast, ask the
/// hardware at every call). <see cref="Supported"/> is what the CPU can run; <see cref="Level"/> is what runs: the
/// widest supported level, or the one the <c>KINDLING_ISA</c> environment variable asks for (<c>scalar</c>,
/// <c>v128</c>, <c>v256</c>, <c>v512</c>; read once at start-up, clamped to what the CPU supports), or one set in-process by a test
/// through <see cref="Force"/>. Nothing else in Kindling tests CPU features: drivers (<see cref="Simd"/>), GEMM and the
/// fused loss kernels all branch on <see cref="Level"/>, so forcing a narrower level exercises the 256-bit and scalar
/// and 128-bit paths on a machine that has AVX-512 (the 128-bit level is the one ARM64 and x86 without AVX2 run).
/// </summary>
internal static class Isa
{
    /// <summary>The environment variable that overrides the level.</summary>
    public const string Variable = "KINDLING_ISA";

    /// <summary>The widest level this CPU runs. AVX-512 kernels also use AVX2 gathers, which every AVX-512 CPU has.</summary>
    public static readonly IsaLevel Supported =
        Avx512F.IsSupported && Avx2.IsSupported && Fma.IsSupported && Vector512.IsHardwareAccelerated ? IsaLevel.Vector512
        : Avx2.IsSupported && Fma.IsSupported && Vector256.IsHardwareAccelerated ? IsaLevel.Vector256
        : Vector128.IsHardwareAccelerated ? IsaLevel.Vector128
        : IsaLevel.Scalar;

    private static readonly IsaLevel s_default = FromEnvironment();
    private static IsaLevel s_level = s_default;

    /// <summary>The level the kernels run at now.</summary>
    public static IsaLevel Level => s_level;

    /// <summary>The level chosen at start-up (CPU support, or <c>KINDLING_ISA</c>).</summary>
    public static IsaLevel Default => s_default;

    /// <summary>Every level this CPU can run, narrowest first.</summary>
    public static IsaLevel[] Available() =>
        new[] { IsaLevel.Scalar, IsaLevel.Vector128, IsaLevel.Vector256, IsaLevel.Vector512 }.Where(l => l <= Supported).ToArray();

    /// <summary>
    /// Test hook: runs the kernels at <paramref name="level"/> until the returned scope is disposed (which restores the
    /// previous level). Process-wide, so callers must not run concurrently with other kernel users.
    /// </summary>
    internal static IDisposable Force(IsaLevel level)
    {
        if (level > Supported)
            throw new ArgumentException($"Isa.Force: this CPU supports up to {Supported}, cannot run at {level}.", nameof(level));
        var previous = s_level;
        s_level = level;
        return new Restore(previous);
    }

    private sealed class Restore(IsaLevel previous) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            s_level = previous;
        }
    }

    /// <summary>Parses <c>KINDLING_ISA</c>; unset or empty means "the widest supported".</summary>
    internal static IsaLevel? Parse(string? s) => s?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => null,
        "scalar" or "portable" or "none" => IsaLevel.Scalar,
        "v128" or "128" or "sse" or "neon" => IsaLevel.Vector128,
        "v256" or "256" or "avx2" => IsaLevel.Vector256,
        "v512" or "512" or "avx512" => IsaLevel.Vector512,
        _ => throw new ArgumentException(
            $"{Variable}='{s}' is not a SIMD level: use scalar, v128, v256 or v512 (or leave it unset for the widest the CPU has)."),
    };

    // A bad value must not surface as a TypeInitializationException from whichever kernel runs first: say what is
    // wrong on stderr and run at the widest level (the results are correct at every level, only the speed differs).
    private static IsaLevel FromEnvironment()
    {
        try { return Clamp(Parse(Environment.GetEnvironmentVariable(Variable)) ?? Supported); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"warning: {e.Message} Using {Supported}.");
            return Supported;
        }
    }

    private static IsaLevel Clamp(IsaLevel l) => l <= Supported ? l : Supported;
}
