namespace Kindling.Kernels;

/// <summary>
/// erf and the Gaussian CDF Φ(x) = ½·erfc(−x/√2) in float64 to about 1e-14 relative, from two Chebyshev fits
/// (coefficients from tools/kernels/gen_gaussian_cdf.py, fitted against scipy's erf and erfcx):
/// erf(z) = z·A(z²) for |z| ≤ 1, and erfc(|z|) = exp(−z²)·u·B(u) with u = 1/|z| for 1 &lt; |z| ≤ 10 (beyond, erfc
/// underflows below 2e-45). About 20 multiply-adds and at most one exp per value, against the 40-term series it
/// replaces. Φ of a negative x comes from erfc directly, never as ½(1 + erf), which would cancel: Φ(−8) = 6.2e-16
/// keeps its digits (GELU keeps PyTorch's ½(1 + erf) form on purpose, for parity).
/// </summary>
internal static class GaussianCdf
{
    private const double InvSqrt2 = 0.70710678118654752440;

    // max relative error: erf on |z| <= 1 8.39e-16, erfc on 1 < z <= 10 7.27e-15
    private static readonly double[] A =
    [
        9.75476939382654229e-01, -1.42261205103713650e-01, 1.00355821875998362e-02,
        -5.76876469976770646e-04, 2.74199312521094563e-05, -1.10431755078714802e-06,
        3.84887554926599843e-08, -1.18085827481328327e-09, 3.23342153899448217e-11,
        -7.99111338283148875e-13, 1.79895106929870145e-14, -4.70451684789277675e-16,
        -1.40433338743067908e-17,
    ];
    private static readonly double[] B =
    [
        4.98870726196203818e-01, -6.93696954517260961e-02, -3.94047494435941642e-03,
        2.43615759479253726e-03, -4.46702025697007937e-04, 2.55304075173342473e-05,
        1.21713445708357153e-05, -5.09924265881998695e-06, 1.06835136528583199e-06,
        -8.76058626588575365e-08, -3.22002864283380853e-08, 1.79402579217326932e-08,
        -4.97881896952407847e-09, 7.93064880330438569e-10, 2.44873762161895451e-11,
        -6.93636734542397589e-11, 2.86305632789107631e-11, -7.40044900466138637e-12,
        1.07815238236562145e-12, 1.08142886770017030e-13, -1.41848204630903933e-13,
        5.86252138208442378e-14, -1.61357906215784524e-14,
    ];

    /// <summary>Σ c_k T_k(t) by Clenshaw's recurrence (stable for |t| ≤ 1).</summary>
    private static double Chebyshev(double[] c, double t)
    {
        double b1 = 0, b2 = 0, t2 = 2 * t;
        for (int k = c.Length - 1; k >= 1; k--)
        {
            double b0 = t2 * b1 - b2 + c[k];
            b2 = b1;
            b1 = b0;
        }
        return t * b1 - b2 + c[0];
    }

    /// <summary>erfc(a) for 1 &lt; a (0 beyond 10); <paramref name="expMinusA2"/> receives exp(−a²) (0 beyond 10).</summary>
    private static double ErfcTail(double a, out double expMinusA2)
    {
        if (a > 10) { expMinusA2 = 0; return 0; }
        double u = 1 / a;
        expMinusA2 = Math.Exp(-a * a);
        return expMinusA2 * u * Chebyshev(B, (2 * u - 1.1) / 0.9);
    }

    /// <summary>The error function.</summary>
    public static double Erf(double z)
    {
        if (double.IsNaN(z)) return z;
        double a = Math.Abs(z);
        if (a <= 1) return z * Chebyshev(A, 2 * z * z - 1);
        double r = 1 - ErfcTail(a, out _);
        return z < 0 ? -r : r;
    }

    /// <summary>Φ(x), the standard normal CDF.</summary>
    public static double Phi(double x)
    {
        if (double.IsNaN(x)) return x;
        double z = x * InvSqrt2, a = Math.Abs(z);
        if (a <= 1) return 0.5 + 0.5 * z * Chebyshev(A, 2 * z * z - 1);
        double tail = 0.5 * ErfcTail(a, out _);
        return z < 0 ? tail : 1 - tail;
    }
}
