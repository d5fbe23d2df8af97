namespace Kindling.NN;

// ReLU, LeakyReLU, ELU, SiLU, Hardswish, Mish, Sigmoid, Tanh and Softplus are generated from their [Activation]
// definitions in NN/Functional. GELU is written by hand: its constructor validates the approximate option, a text
// choice the generator does not read; the layers after it are not elementwise activations.

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
    internal override bool ReturnsFreshBuffer => true;
}


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
