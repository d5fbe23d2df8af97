namespace Kindling.Kernels;

/// <summary>Scalar special functions .NET's Math lacks.</summary>
internal static class SpecialFunctions
{
    /// <summary>Error function to about 1e-14 relative (<see cref="GaussianCdf.Erf"/>: two Chebyshev fits).</summary>
    public static double Erf(double x) => GaussianCdf.Erf(x);
}
