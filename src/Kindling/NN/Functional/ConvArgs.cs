namespace Kindling.NN;

/// <summary>
/// A size per spatial dimension, written as PyTorch takes it: one int for all (<c>3</c>) or a pair (<c>(3, 5)</c>).
/// </summary>
public readonly record struct Size2(int H, int W)
{
    /// <summary>The same value for height and width.</summary>
    public static implicit operator Size2(int v) => new(v, v);
    /// <summary>(height, width).</summary>
    public static implicit operator Size2((int H, int W) v) => new(v.H, v.W);
    /// <summary>PyTorch's repr: <c>3</c> → <c>(3, 3)</c>.</summary>
    public override string ToString() => $"({H}, {W})";
    internal bool IsSquare => H == W;
}

/// <summary>Padding of a convolution: an int, a pair (each side of height, width), <c>"valid"</c> (none) or <c>"same"</c>.</summary>
public readonly record struct ConvPadding
{
    /// <summary>Explicit per-side padding (height, width); meaningless when <see cref="Same"/>.</summary>
    public Size2 Size { get; }
    /// <summary>"same": output size = input size (stride 1 only); odd totals put the extra row/column at the end.</summary>
    public bool Same { get; }

    private ConvPadding(Size2 size, bool same) { Size = size; Same = same; }

    /// <summary>Zero padding on every side.</summary>
    public static ConvPadding Valid => new(0, false);
    /// <summary>PyTorch's <c>padding="same"</c>.</summary>
    public static ConvPadding SameAsInput => new(0, true);

    public static implicit operator ConvPadding(int v) => v >= 0 ? new(v, false)
        : throw new ArgumentOutOfRangeException(nameof(v), v, $"convolution: padding must be non-negative, got {v}.");
    public static implicit operator ConvPadding((int H, int W) v) => v.H >= 0 && v.W >= 0 ? new(v, false)
        : throw new ArgumentOutOfRangeException(nameof(v), v, $"convolution: padding must be non-negative, got ({v.H}, {v.W}).");
    public static implicit operator ConvPadding(Size2 v) => (v.H, v.W);
    public static implicit operator ConvPadding(string s) => s switch
    {
        "same" => SameAsInput,
        "valid" => Valid,
        _ => throw new ArgumentException($"convolution: invalid padding string '{s}'; expected \"same\", \"valid\", an int or a pair."),
    };

    /// <summary>PyTorch's repr: <c>'same'</c>, or the pair.</summary>
    public override string ToString() => Same ? "same" : Size.ToString();
}
