using System.Security.Cryptography;
using System.Text;
using Kindling.Data;

namespace Kindling.Cli;

/// <summary>
/// SHA-256 of a dataset as loaded: its feature and target values and names. A run records it, so that `eval RUN`
/// rebuilds "its test split" (the seed's permutation of the rows) only from the very data it was trained on; a
/// reordered or edited file would otherwise give a different, possibly training-contaminated, "test" set.
/// </summary>
public static class DataFingerprint
{
    public static string Of(LabeledData d, LabeledData? test = null)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Add(h, d);
        if (test != null) { h.AppendData("\0test\0"u8); Add(h, test); }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    private static void Add(IncrementalHash h, LabeledData d)
    {
        foreach (var list in new[] { d.FeatureNames, d.TargetNames, d.ClassNames ?? [] })
        {
            foreach (var s in list) { h.AppendData(Encoding.UTF8.GetBytes(s)); h.AppendData("\0"u8); }
            h.AppendData("\u0001"u8);
        }
        Tensor x = d.Features, y = d.Targets;
        h.AppendData(BitConverter.GetBytes(x.Size(0)));
        h.AppendData(BitConverter.GetBytes(x.Size(1)));
        // In blocks of rows, so a 60,000-image dataset is not copied whole a second time.
        const int block = 4096;
        for (int s = 0; s < x.Size(0); s += block)
        {
            int len = Math.Min(block, x.Size(0) - s);
            // The float32 values the model sees (uint8 pixels / 255), so a run's fingerprint does not depend on how they are held.
            var xb = x.Narrow(0, s, len).ToArray();
            if (x.DType == DType.UInt8 && d.FeatureDivisor != 1f) for (int i = 0; i < xb.Length; i++) xb[i] /= d.FeatureDivisor;
            h.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(xb.AsSpan()));
            var yb = y.Narrow(0, s, len);
            if (y.DType == DType.Int64) h.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(yb.ToInt64Array().AsSpan()));
            else h.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(yb.ToArray().AsSpan()));
        }
    }
}
