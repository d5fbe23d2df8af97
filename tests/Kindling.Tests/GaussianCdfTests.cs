using System.Text.Json.Nodes;
using Kindling.Kernels;

namespace Kindling.Tests;

/// <summary>erf and Φ (the Gaussian CDF behind GELU) against scipy's erf and ndtr (tools/kernels/gen_gaussian_cdf.py).</summary>
public sealed class GaussianCdfTests
{
    [Fact]
    public void ErfAndPhiMatchScipyAcrossTheRangeAndTheFarTails()
    {
        var j = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "kernels", "gaussian_cdf_cases.json")))!;
        double[] x = D(j["x"]!), erf = D(j["erf"]!), phi = D(j["phi"]!);
        for (int i = 0; i < x.Length; i++)
        {
            Close(erf[i], GaussianCdf.Erf(x[i]), 2e-14, $"erf({x[i]:R})");
            // Φ keeps its relative accuracy in the left tail (Φ(−8) = 6.2e-16), where ½(1 + erf) would lose every digit.
            Close(phi[i], GaussianCdf.Phi(x[i]), 2e-14, $"Φ({x[i]:R})");
        }
        Assert.True(double.IsNaN(GaussianCdf.Phi(double.NaN)));
        Assert.Equal(1.0, GaussianCdf.Phi(double.PositiveInfinity));
        Assert.Equal(0.0, GaussianCdf.Phi(double.NegativeInfinity));
        Assert.Equal(-1.0, GaussianCdf.Erf(double.NegativeInfinity));
    }

    private static double[] D(JsonNode n) => n.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    private static void Close(double want, double got, double rel, string what) =>
        Assert.True(Math.Abs(got - want) <= rel * Math.Abs(want) + 1e-300, $"{what}: scipy {want:R}, Kindling {got:R}");
}
