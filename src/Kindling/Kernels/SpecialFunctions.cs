namespace Kindling.Kernels;

/// <summary>Scalar special functions .NET's Math lacks.</summary>
internal static class SpecialFunctions
{
    /// <summary>
    /// Error function to about 1e-15 relative: the Maclaurin series where it converges fast (|x| &lt; 2.5),
    /// the Lentz continued fraction of erfc beyond, where the series would cancel catastrophically.
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax < 2.5)
        {
            double sum = x, term = x, x2 = x * x;
            for (int n = 1; n < 200; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return 2.0 / Math.Sqrt(Math.PI) * sum;
        }
        if (ax > 6) return Math.Sign(x);
        return Math.Sign(x) * (1.0 - Erfc(ax));
    }

    /// <summary>erfc(x) for x ≥ 2.5 by the continued fraction erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))).</summary>
    private static double Erfc(double x)
    {
        // Modified Lentz on K(a_n / b_n) with b = x, a_n = n/2.
        const double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int n = 1; n < 300; n++)
        {
            double an = n * 0.5;
            d = x + an * d; if (Math.Abs(d) < tiny) d = tiny;
            c = x + an / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }
}
