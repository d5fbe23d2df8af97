namespace Kindling.NN;

/// <summary>
/// Weight initialisers (PyTorch's <c>torch.nn.init</c>), filling a tensor in place from a seeded generator
/// (default <see cref="Generator.Default"/>). Fans: fan_in = size(1)·receptive field, fan_out = size(0)·receptive field.
/// </summary>
public static class Init
{
    /// <summary>The (fan_in, fan_out) of a weight tensor of rank ≥ 2.</summary>
    public static (int FanIn, int FanOut) Fans(Tensor t)
    {
        if (t.Rank < 2) throw new ArgumentException($"init: fan in and fan out need a tensor of rank ≥ 2, got {t.ShapeString}.");
        int receptive = 1;
        for (int i = 2; i < t.Rank; i++) receptive *= t.Size(i);
        return (t.Size(1) * receptive, t.Size(0) * receptive);
    }

    /// <summary>PyTorch's calculate_gain for linear/sigmoid (1), tanh (5/3), relu (√2), leaky_relu (√(2/(1 + a²))), selu (3/4).</summary>
    public static double Gain(string nonlinearity, double param = 0.01) => nonlinearity switch
    {
        "linear" or "identity" or "sigmoid" or "conv1d" or "conv2d" => 1,
        "tanh" => 5.0 / 3,
        "relu" => Math.Sqrt(2),
        "leaky_relu" => Math.Sqrt(2 / (1 + param * param)),
        "selu" => 0.75,
        _ => throw new ArgumentException($"init: unknown nonlinearity '{nonlinearity}'."),
    };

    private static Tensor Fill(Tensor t, Func<double> next)
    {
        var v = new double[t.NumEl];
        for (int i = 0; i < v.Length; i++) v[i] = next();
        using (Autograd.NoGrad()) t.CopyFrom(Tensor.FromArray(v, t.Shape.Length == 0 ? [1] : t.Shape).Reshape(t.Shape));
        return t;
    }

    /// <summary>U(a, b).</summary>
    public static Tensor Uniform_(Tensor t, double a = 0, double b = 1, Generator? g = null)
    {
        var gen = g ?? Generator.Default;
        lock (gen.SyncRoot) return Fill(t, () => a + (b - a) * gen.NextDouble());
    }

    /// <summary>N(mean, std²).</summary>
    public static Tensor Normal_(Tensor t, double mean = 0, double std = 1, Generator? g = null)
    {
        var gen = g ?? Generator.Default;
        lock (gen.SyncRoot) return Fill(t, () => mean + std * gen.NextNormal());
    }

    /// <summary>Fills with a constant.</summary>
    public static Tensor Constant_(Tensor t, double value) { using (Autograd.NoGrad()) t.Fill_(value); return t; }
    /// <summary>Fills with zeros.</summary>
    public static Tensor Zeros_(Tensor t) => Constant_(t, 0);
    /// <summary>Fills with ones.</summary>
    public static Tensor Ones_(Tensor t) => Constant_(t, 1);

    /// <summary>Glorot uniform: U(−b, b), b = gain·√(6 / (fan_in + fan_out)).</summary>
    public static Tensor XavierUniform_(Tensor t, double gain = 1, Generator? g = null)
    {
        var (fi, fo) = Fans(t);
        double b = gain * Math.Sqrt(6.0 / (fi + fo));
        return Uniform_(t, -b, b, g);
    }

    /// <summary>Glorot normal: N(0, std²), std = gain·√(2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal_(Tensor t, double gain = 1, Generator? g = null)
    {
        var (fi, fo) = Fans(t);
        return Normal_(t, 0, gain * Math.Sqrt(2.0 / (fi + fo)), g);
    }

    /// <summary>He uniform: U(−b, b), b = gain·√(3 / fan), gain from <paramref name="nonlinearity"/> and <paramref name="a"/>; mode "fan_in" (default) or "fan_out".</summary>
    public static Tensor KaimingUniform_(Tensor t, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? g = null)
    {
        double std = Gain(nonlinearity, a) / Math.Sqrt(Fan(t, mode));
        double b = Math.Sqrt(3.0) * std;
        return Uniform_(t, -b, b, g);
    }

    /// <summary>He normal: N(0, std²), std = gain / √fan.</summary>
    public static Tensor KaimingNormal_(Tensor t, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? g = null) =>
        Normal_(t, 0, Gain(nonlinearity, a) / Math.Sqrt(Fan(t, mode)), g);

    private static int Fan(Tensor t, string mode)
    {
        var (fi, fo) = Fans(t);
        return mode switch { "fan_in" => fi, "fan_out" => fo, _ => throw new ArgumentException($"init: mode must be 'fan_in' or 'fan_out', got '{mode}'.") };
    }
}
