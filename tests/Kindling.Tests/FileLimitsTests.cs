using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Kindling.Data;
using Kindling.IO;

namespace Kindling.Tests;

/// <summary>Issue 12: IDX and safetensors files that are too large, lie about their size, or hold invalid Unicode.</summary>
public class FileLimitsTests
{
    private static string Dir() => CliRobustnessTests.Tmp("files");

    private static byte[] IdxHeader(byte type, params uint[] dims)
    {
        var h = new byte[4 + 4 * dims.Length];
        h[2] = type; h[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(4 + 4 * i), dims[i]);
        return h;
    }

    /// <summary>Gzips the header and then <paramref name="zeros"/> zero bytes, streamed (nothing that large is held).</summary>
    private static string Gz(string dir, byte[] header, long zeros)
    {
        var path = Path.Combine(dir, "bomb.gz");
        using var fs = File.Create(path);
        using var gz = new GZipStream(fs, CompressionLevel.Fastest);
        gz.Write(header);
        var block = new byte[1 << 20];
        for (long left = zeros; left > 0; left -= block.Length) gz.Write(block, 0, (int)Math.Min(block.Length, left));
        return path;
    }

    [Fact]
    public void GzipBombIsRejectedFromItsTrailerBeforeDecompressing()
    {
        // Declares 10 images of 28×28 (7,840 bytes) but expands to 200 MB.
        var path = Gz(Dir(), IdxHeader(0x08, 10, 28, 28), 200L << 20);
        var e = Assert.Throws<DataException>(() => Idx.ReadImages(path));
        Assert.Contains("gzip trailer", e.Message);
    }

    [Fact]
    public void GzipBombWithAForgedTrailerIsRejectedAfterTheDeclaredBytes()
    {
        var path = Gz(Dir(), IdxHeader(0x08, 10, 28, 28), 50L << 20);
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), 16 + 7840); // the size the header implies
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataException>(() => Idx.ReadImages(path));
        Assert.Contains("more than the 7840 bytes", e.Message);
    }

    [Fact]
    public void GzipDeclaringMoreThanDeflateCanHoldIsRejected()
    {
        var path = Gz(Dir(), IdxHeader(0x08, 60000, 28, 28), 0);
        var e = Assert.Throws<DataException>(() => Idx.ReadImages(path));
        Assert.Contains("gzip-compressed bytes can expand to", e.Message);
    }

    [Fact]
    public void TruncatedGzipPayloadIsADataError()
    {
        var dir = Dir();
        var path = Gz(dir, IdxHeader(0x08, 10, 28, 28), 7840);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.Throws<DataException>(() => Idx.ReadImages(path));
    }

    [Fact]
    public void PlainIdxOver2GBIsRefusedWithoutReading()
    {
        var path = Path.Combine(Dir(), "huge-idx3-ubyte");
        using (var fs = File.Create(path))
        {
            fs.Write(IdxHeader(0x08, 50000, 50000));
            fs.SetLength(12 + 2_500_000_000L); // sparse: no disk space used
        }
        var e = Assert.Throws<DataException>(() => Idx.ReadImages(path));
        Assert.Contains("more than one tensor holds", e.Message);
        File.Delete(path);
    }

    [Fact]
    public void ZeroImageFilesReadAsEmptyAndFashionMnistRefusesThem()
    {
        var dir = Dir();
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte"), IdxHeader(0x08, 0, 28, 28));
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), IdxHeader(0x08, 0));
        Assert.Equal(new[] { 0, 28, 28 }, Idx.ReadImages(Path.Combine(dir, "train-images-idx3-ubyte")).Shape.ToArray());
        var e = Assert.Throws<DataException>(() => FashionMnist.Load(dir));
        Assert.Contains("0 images", e.Message);
        CliRobustnessTests.AssertOneLineError(CliTests.Run(["train", "--data", dir, "--epochs", "1", "--out", Path.Combine(dir, "run")]), "0 images");
    }

    [Fact]
    public void StreamedIdxMatchesTheBytes()
    {
        var dir = Dir();
        var h = IdxHeader(0x0B, 3, 70000); // int16, more than one 64 KB chunk
        var data = new byte[2 * 3 * 70000];
        new Random(3).NextBytes(data);
        var path = Path.Combine(dir, "x.idx");
        File.WriteAllBytes(path, [.. h, .. data]);
        var t = Idx.Read(path).ToInt64Array();
        for (int i = 0; i < t.Length; i += 997) Assert.Equal(BinaryPrimitives.ReadInt16BigEndian(data.AsSpan(2 * i)), t[i]);
        Assert.Equal(BinaryPrimitives.ReadInt16BigEndian(data.AsSpan(data.Length - 2)), t[^1]);
    }

    private static byte[] RawSafetensors(string header, long dataLength)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var b = new byte[8 + h.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)h.Length);
        h.CopyTo(b, 8);
        return b;
    }

    [Fact]
    public void LoneSurrogateInAHeaderIsAFormatError()
    {
        var bytes = RawSafetensors("{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        var e = Assert.Throws<SafetensorsException>(() => Safetensors.Deserialize(bytes));
        Assert.Contains("surrogate", e.Message);
        var meta = RawSafetensors("{\"__metadata__\":{\"k\":\"\\udc00\"},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        Assert.Throws<SafetensorsException>(() => Safetensors.Deserialize(meta));
    }

    [Fact]
    public void WriterRefusesNamesUtf8CannotHold()
    {
        var path = Path.Combine(Dir(), "s.safetensors");
        var e = Assert.Throws<ArgumentException>(() => Safetensors.Save(path, new Dictionary<string, Tensor> { ["w\ud800"] = Tensor.Zeros(1) }));
        Assert.Contains("surrogate", e.Message);
        Assert.Throws<ArgumentException>(() => Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Zeros(1) }, new Dictionary<string, string> { ["k"] = "\udc00" }));
        Assert.False(File.Exists(path));
        // A proper pair (an emoji) is fine and round-trips.
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w\ud83d\ude00"] = Tensor.Zeros(1) });
        Assert.True(Safetensors.Load(path).Tensors.ContainsKey("w\ud83d\ude00"));
    }

    [Fact]
    public void SparseBoolOfIntMaxElementsIsRefusedBeforeAllocating()
    {
        var path = Path.Combine(Dir(), "sparse.safetensors");
        var h = Encoding.UTF8.GetBytes("{\"m\":{\"dtype\":\"BOOL\",\"shape\":[2147483647],\"data_offsets\":[0,2147483647]}}");
        using (var fs = File.Create(path))
        {
            var prefix = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)h.Length);
            fs.Write(prefix); fs.Write(h);
            fs.SetLength(8 + h.Length + 2147483647L); // sparse
        }
        var e = Assert.Throws<SafetensorsException>(() => Safetensors.Load(path));
        Assert.Contains("at most 2147483591", e.Message);
        File.Delete(path);
    }
}
