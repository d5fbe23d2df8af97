namespace Kindling.NN;

/// <summary>max(x, 0).</summary>
public sealed class ReLU : Module { public override Tensor Forward(Tensor input) => input.Relu(); }

/// <summary>x for x &gt; 0, negativeSlope·x otherwise (default slope 0.01).</summary>
public sealed class LeakyReLU(double negativeSlope = 0.01) : Module
{
    /// <summary>Slope for negative inputs.</summary>
    public double NegativeSlope => negativeSlope;
    public override Tensor Forward(Tensor input) => input.LeakyRelu(negativeSlope);
    protected override string ExtraRepr() => $"negative_slope={negativeSlope}";
}

/// <summary>x for x &gt; 0, α(eˣ − 1) otherwise (default α 1).</summary>
public sealed class ELU(double alpha = 1.0) : Module
{
    /// <summary>α, the limit for large negative inputs is −α.</summary>
    public double Alpha => alpha;
    public override Tensor Forward(Tensor input) => input.Elu(alpha);
    protected override string ExtraRepr() => $"alpha={alpha}";
}

/// <summary>x·Φ(x) with the exact erf (approximate "none", the default), or GPT-2's tanh form with approximate "tanh"; see <see cref="Functional.Gelu"/>.</summary>
public sealed class GELU : Module
{
    /// <summary>"none" or "tanh".</summary>
    public string Approximate { get; }

    public GELU(string approximate = "none")
    {
        if (approximate is not ("none" or "tanh")) throw new ArgumentException($"GELU: approximate must be 'none' or 'tanh', got '{approximate}'.", nameof(approximate));
        Approximate = approximate;
    }

    public override Tensor Forward(Tensor input) => Approximate == "none" ? input.Gelu() : Functional.Gelu(input, Approximate);
    protected override string ExtraRepr() => $"approximate='{Approximate}'";
}

/// <summary>x·σ(x).</summary>
public sealed class SiLU : Module { public override Tensor Forward(Tensor input) => input.Silu(); }

/// <summary>x·min(max(x + 3, 0), 6)/6 (PyTorch's <c>nn.Hardswish</c>, MobileNetV3): 0 below −3, x above 3.</summary>
public sealed class Hardswish : Module { public override Tensor Forward(Tensor input) => input.Hardswish(); }

/// <summary>x·tanh(softplus(x)) (PyTorch's <c>nn.Mish</c>).</summary>
public sealed class Mish : Module { public override Tensor Forward(Tensor input) => input.Mish(); }

/// <summary>1 / (1 + e⁻ˣ).</summary>
public sealed class Sigmoid : Module { public override Tensor Forward(Tensor input) => input.Sigmoid(); }

/// <summary>tanh x.</summary>
public sealed class Tanh : Module { public override Tensor Forward(Tensor input) => input.Tanh(); }

/// <summary>Softmax along <paramref name="dim"/> (default −1).</summary>
public sealed class Softmax(int dim = -1) : Module
{
    /// <summary>The dimension normalised.</summary>
    public int Dim => dim;
    public override Tensor Forward(Tensor input) => input.Softmax(dim);
    protected override string ExtraRepr() => $"dim={dim}";
}

/// <summary>log-softmax along <paramref name="dim"/> (default −1).</summary>
public sealed class LogSoftmax(int dim = -1) : Module
{
    /// <summary>The dimension normalised.</summary>
    public int Dim => dim;
    public override Tensor Forward(Tensor input) => input.LogSoftmax(dim);
    protected override string ExtraRepr() => $"dim={dim}";
}

/// <summary>Flattens dimensions startDim..endDim (defaults 1..−1: everything but the batch).</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module
{
    /// <summary>First dimension flattened.</summary>
    public int StartDim => startDim;
    /// <summary>Last dimension flattened.</summary>
    public int EndDim => endDim;
    public override Tensor Forward(Tensor input) => input.Flatten(startDim, endDim);
    protected override string ExtraRepr() => $"start_dim={startDim}, end_dim={endDim}";
}

/// <summary>Returns its input.</summary>
public sealed class Identity : Module { public override Tensor Forward(Tensor input) => input; }

/// <summary>Inverted dropout with probability p (default 0.5), active in training mode only.</summary>
public sealed class Dropout : Module
{
    private readonly Generator? _generator;
    public double P { get; }

    public Dropout(double p = 0.5, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, $"Dropout: probability must be in [0, 1], got {p}.");
        P = p;
        _generator = generator;
    }

    public override Tensor Forward(Tensor input) => Functional.Dropout(input, P, Training, _generator);
    protected override string ExtraRepr() => $"p={P}";
}
