namespace Kindling.NN;

/// <summary>Channel-wise dropout with probability p (default 0.5) in training mode (PyTorch's <c>nn.Dropout2d</c>); see <see cref="Functional.Dropout2d"/>.</summary>
public sealed class Dropout2d : Module
{
    private readonly Generator? _generator;
    public double P { get; }

    public Dropout2d(double p = 0.5, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, $"Dropout2d: probability must be in [0, 1], got {p}.");
        P = p;
        _generator = generator;
    }

    public override Tensor Forward(Tensor input) => Functional.Dropout2d(input, P, Training, _generator);
    protected override string ExtraRepr() => $"p={P}, inplace=False";
}
