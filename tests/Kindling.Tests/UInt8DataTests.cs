using System.IO.Compression;
using Kindling.Data;
using Kindling.IO;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Tests;

/// <summary>
/// The uint8 dtype and the data path that keeps images as bytes: creation, views, row gathers, conversion, refusal in
/// arithmetic, safetensors U8 without widening, IDX bytes, TensorDataset/DataLoader converting per batch, and
/// Standardize fitted by streaming a dataset. Values are compared bit for bit with the float32 path they replace.
/// </summary>
public class UInt8DataTests
{
    private static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void CreationViewsGatherAndConversionKeepTheBytes()
    {
        var data = new byte[] { 0, 1, 2, 127, 128, 200, 254, 255, 9, 10, 11, 12 };
        var t = Tensor.FromArray(data, 3, 4);
        Assert.Equal(DType.UInt8, t.DType);
        Assert.Equal([3, 4], t.Shape);
        data[0] = 99; // FromArray copies
        Assert.Equal(0, t.ToByteArray()[0]);
        Assert.Contains("dtype=torch.uint8", t.ToString());
        Assert.Contains("255", t.ToString());

        Assert.Equal(new byte[] { 128, 200, 254, 255 }, t.Select(0, 1).ToByteArray());
        Assert.Equal(new byte[] { 1, 200, 10 }, t.Narrow(1, 1, 1).ToByteArray());
        Assert.Equal(new byte[] { 0, 128, 9, 1, 200, 10, 2, 254, 11, 127, 255, 12 }, t.Transpose(0, 1).Contiguous().ToByteArray());
        Assert.Equal([4, 3], t.Reshape(4, 3).Shape);

        var rows = t.IndexSelect(0, Tensor.FromArray(new long[] { 2, 0, 2 }));
        Assert.Equal(DType.UInt8, rows.DType);
        Assert.Equal(new byte[] { 9, 10, 11, 12, 0, 1, 2, 127, 9, 10, 11, 12 }, rows.ToByteArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => t.IndexSelect(0, Tensor.FromArray(new long[] { 3 })));

        var f = t.ToFloat32();
        Assert.Equal(DType.Float32, f.DType);
        Assert.Equal(new float[] { 0, 1, 2, 127, 128, 200, 254, 255, 9, 10, 11, 12 }, f.ToArray());
        Assert.Equal(new long[] { 0, 1, 2, 127, 128, 200, 254, 255, 9, 10, 11, 12 }, t.To(DType.Int64).ToInt64Array());
        Assert.Equal(new double[] { 128, 200 }, t.Select(0, 1).Narrow(0, 0, 2).ToDoubleArray());
        Assert.Equal(new[] { false, true }, t.Narrow(1, 0, 2).Select(0, 0).To(DType.Bool).ToArray().Select(v => v != 0));

        var wrapped = new byte[] { 5, 6 };
        var view = Tensor.FromBytes(wrapped, 2);
        wrapped[1] = 7; // FromBytes does not copy
        Assert.Equal(new byte[] { 5, 7 }, view.ToByteArray());
        Assert.Throws<InvalidOperationException>(() => f.ToByteArray());

        // Writing bytes into a strided uint8 view (a column), and refusing floats that would have to wrap.
        var canvas = Tensor.Zeros([2, 3], DType.UInt8);
        canvas.Narrow(1, 1, 1).CopyFrom(Tensor.FromArray(new byte[] { 7, 8 }, 2, 1));
        Assert.Equal(new byte[] { 0, 7, 0, 0, 8, 0 }, canvas.ToByteArray());
        Assert.Throws<InvalidOperationException>(() => canvas.Narrow(1, 0, 1).CopyFrom(Tensor.FromArray([300f, 1f], 2, 1)));
    }

    [Fact]
    public void ArithmeticOnUInt8IsRefusedWithTheFix()
    {
        var t = Tensor.FromArray(new byte[] { 200, 100 }, 2);
        var f = Tensor.FromArray([1f, 2f]);
        foreach (var op in new Func<Tensor>[] { () => t + t, () => t + f, () => f * t, () => t * 2f, () => t - 1f, () => t / 255f, () => t.Eq(t) })
        {
            var e = Assert.Throws<ArgumentException>(op);
            Assert.Contains("uint8", e.Message);
            Assert.Contains("ToFloat32()", e.Message);
        }
        foreach (var op in new Func<Tensor>[] { () => t.Exp(), () => t.Sum(), () => t.Mean(), () => t.Reshape(1, 2).Matmul(Tensor.FromArray(new byte[] { 1, 2 }, 2, 1)) })
        {
            var e = Assert.ThrowsAny<ArgumentException>(op);
            Assert.Contains("uint8", e.Message);
        }
        // The fix the message names gives the wanted values: PyTorch's img.float().div(255).
        Assert.Equal(new[] { 200f / 255f, 100f / 255f }, (t.ToFloat32() / 255f).ToArray());
    }

    [Fact]
    public void SafetensorsKeepsU8AsBytes()
    {
        var bytes = Bytes(3 * 1000, 1);
        var path = Path.Combine(Path.GetTempPath(), $"kindling-u8-{Guid.NewGuid():N}.safetensors");
        try
        {
            Safetensors.Save(path, new Dictionary<string, Tensor> { ["images"] = Tensor.FromArray(bytes, 3, 1000), ["w"] = Tensor.FromArray([1f]) });
            // One byte per element on disk: 3000 + 4 data bytes after the header.
            long header = BitConverter.ToInt64(File.ReadAllBytes(path).AsSpan(0, 8));
            Assert.Equal(8 + header + 3000 + 4, new FileInfo(path).Length);
            var file = Safetensors.Load(path);
            Assert.Equal("U8", file.StoredDTypes["images"]);
            var t = file.Tensors["images"];
            Assert.Equal(DType.UInt8, t.DType);
            Assert.Equal([3, 1000], t.Shape);
            Assert.Equal(bytes, t.ToByteArray());
        }
        finally { File.Delete(path); }
    }

    /// <summary>Writes an IDX file of unsigned bytes with the given dimensions, optionally gzipped.</summary>
    private static string WriteIdx(byte[] payload, int[] dims, bool gzip, byte type = 0x08)
    {
        var ms = new MemoryStream();
        ms.Write([0, 0, type, (byte)dims.Length]);
        foreach (int d in dims) { var b = BitConverter.GetBytes(d); Array.Reverse(b); ms.Write(b); }
        ms.Write(payload);
        var path = Path.Combine(Path.GetTempPath(), $"kindling-idx-{Guid.NewGuid():N}");
        if (!gzip) File.WriteAllBytes(path, ms.ToArray());
        else using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest)) gz.Write(ms.ToArray());
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IdxBytesMatchTheScaledFloatImagesBitForBit(bool gzip)
    {
        var payload = Bytes(5 * 4 * 3, 2);
        var path = WriteIdx(payload, [5, 4, 3], gzip);
        try
        {
            var bytes = Idx.ReadBytes(path);
            Assert.Equal(DType.UInt8, bytes.DType);
            Assert.Equal([5, 4, 3], bytes.Shape);
            Assert.Equal(payload, bytes.ToByteArray());
            var floats = Idx.ReadImages(path, scale: true).ToArray();
            var viaDataset = new TensorDataset(bytes.Reshape(5, 12), Tensor.Zeros(5)) { FeatureDivisor = 255 };
            var (x, _) = DataLoader.Collate(viaDataset, [0, 1, 2, 3, 4]);
            Assert.Equal(floats.Select(BitConverter.SingleToInt32Bits), x.ToArray().Select(BitConverter.SingleToInt32Bits));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void IdxReadBytesRefusesOtherElementTypes()
    {
        var path = WriteIdx(new byte[8], [2], gzip: false, type: 0x0C);
        try
        {
            var e = Assert.Throws<DataException>(() => Idx.ReadBytes(path));
            Assert.Contains("0x08", e.Message);
            Assert.Contains("int32", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ALoaderOverUInt8ImagesYieldsTheFloatBatchesOfTheFloatDataset()
    {
        int n = 37, f = 20;
        var bytes = Tensor.FromArray(Bytes(n * f, 3), n, f);
        var labels = Tensor.FromArray(Enumerable.Range(0, n).Select(i => (long)(i % 3)).ToArray());
        var asBytes = new TensorDataset(bytes, labels) { FeatureDivisor = 255 };
        var asFloats = new TensorDataset(bytes.ToFloat32() / 255f, labels);
        Assert.Equal(DType.UInt8, asBytes.Features.DType);
        var a = new DataLoader(asBytes, 8, shuffle: true, generator: new Generator(5)).ToList();
        var b = new DataLoader(asFloats, 8, shuffle: true, generator: new Generator(5)).ToList();
        Assert.Equal(b.Count, a.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(DType.Float32, a[i].X.DType);
            Assert.Equal(b[i].X.ToArray().Select(BitConverter.SingleToInt32Bits), a[i].X.ToArray().Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(b[i].Y.ToInt64Array(), a[i].Y.ToInt64Array());
        }
        // Without a divisor the bytes come out as their values (PyTorch's x.float()).
        Assert.Equal(bytes.ToFloat32().Select(0, 4).ToArray(), new TensorDataset(bytes, labels)[4].X.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TensorDataset(bytes, labels) { FeatureDivisor = 0 });
    }

    /// <summary>
    /// The library's DataLoader over a 200 MB uint8 image tensor (the CI-sized stand-in for the 2 GB run in
    /// bench/memory.sh) trains without a float32 copy of the data: building the dataset and loader and training on ten
    /// shuffled batches allocates, on this thread, a few megabytes (the batches, the permutation, the model's step)
    /// where one float32 copy would be 800 MB and even one byte copy 200 MB.
    /// </summary>
    [Fact]
    public void TrainingFromA200MBUInt8TensorNeverCopiesItWhole()
    {
        const int rows = 255_000, f = 784; // 199.9 MB of pixels
        var pixels = new byte[rows * f];
        new Random(4).NextBytes(pixels.AsSpan(0, 1 << 20));
        var images = Tensor.FromBytes(pixels, rows, f);
        var labels = Tensor.Zeros([rows], DType.Int64);
        var model = new Sequential(new Linear(f, 16), new ReLU(), new Linear(16, 10));
        var opt = new Adam(model.Parameters(), lr: 1e-3);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var loader = new DataLoader(new TensorDataset(images, labels) { FeatureDivisor = 255 }, 256, shuffle: true, generator: new Generator(0));
        int steps = 0;
        foreach (var (x, y) in loader)
        {
            opt.ZeroGrad();
            Functional.CrossEntropy(model.Call(x), y).Backward();
            opt.Step();
            if (++steps == 10) break;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(10, steps);
        Assert.True(allocated < 32L << 20, $"training 10 batches from a {pixels.Length / 1e6:F0} MB uint8 tensor allocated {allocated / 1e6:F1} MB on this thread; a float32 copy would be {4.0 * pixels.Length / 1e6:F0} MB");
        GC.KeepAlive(pixels);
    }

    [Fact]
    public void Cifar10AsBytesBatchesLikeTheFloatLoad()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"kindling-cifar-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var records = Bytes(3 * Cifar10.RecordSize, 7);
            for (int i = 0; i < 3; i++) records[i * Cifar10.RecordSize] = (byte)(i + 4);
            File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), records);
            var bytes = Cifar10.LoadBytes(dir, train: false);
            var floats = Cifar10.Load(dir, train: false);
            Assert.Equal(DType.UInt8, bytes.Features.DType);
            Assert.Equal([3, 3, 32, 32], bytes.Features.Shape);
            Assert.Equal(records.AsSpan(1 + Cifar10.RecordSize, 3072).ToArray(), bytes.Features.Select(0, 1).Reshape(-1).ToByteArray());
            Assert.Equal(new long[] { 4, 5, 6 }, bytes.Targets.ToInt64Array());
            var (xb, _) = DataLoader.Collate(bytes, [2, 0, 1]);
            var (xf, _) = DataLoader.Collate(floats, [2, 0, 1]);
            Assert.Equal(xf.ToArray().Select(BitConverter.SingleToInt32Bits), xb.ToArray().Select(BitConverter.SingleToInt32Bits));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void StandardizeFittedByStreamingADatasetEqualsTheMatrixFit()
    {
        int n = 301, f = 7;
        var rnd = new Random(6);
        var x = Tensor.FromArray(Enumerable.Range(0, n * f).Select(_ => (float)(rnd.NextDouble() * 1000 + 5000)).ToArray(), n, f);
        var rows = Enumerable.Range(0, n).Where(i => i % 3 != 0).Reverse().ToArray();
        var subset = new Subset(new TensorDataset(x, Tensor.Zeros(n)), rows);
        var streamed = Standardize.Fit(subset);
        var stacked = Standardize.Fit(x.IndexSelect(0, Tensor.FromArray(rows.Select(r => (long)r).ToArray())));
        Assert.Equal(stacked.Mean.ToArray(), streamed.Mean.ToArray());
        Assert.Equal(stacked.Std.ToArray(), streamed.Std.ToArray());
        // In place, row by row, the same numbers Transform gives.
        var expected = stacked.Transform(x).ToArray();
        var values = x.ToArray();
        streamed.TransformInPlace(values);
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), values.Select(BitConverter.SingleToInt32Bits));
        Assert.Throws<ArgumentException>(() => streamed.TransformInPlace(new float[f + 1]));
        Assert.Throws<ArgumentException>(() => Standardize.Fit(new Subset(subset, [])));
    }
}
