namespace Kindling.NN;

/// <summary>How convolution and pooling layers name themselves in errors and reprs (PyTorch's extra_repr wording).</summary>
internal static class ConvNames
{
    /// <summary><c>3</c> for a square size, <c>(3, 5)</c> otherwise: the short form the user most likely wrote.</summary>
    public static string Short(Size2 s) => s.IsSquare ? s.H.ToString(System.Globalization.CultureInfo.InvariantCulture) : s.ToString();
}
