namespace Kindling.NN;

// ReLU, LeakyReLU, ELU, GELU, SiLU, Sigmoid and Tanh are generated from their [Activation] definitions in
// NN/Functional/Activations.cs. The layers below are not elementwise activations and are written by hand.

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
