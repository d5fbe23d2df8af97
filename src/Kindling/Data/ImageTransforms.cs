namespace Kindling.Data;

/// <summary>
/// An in-place operation on one image of shape (C, H, W), applied to each sample as a <see cref="DataLoader"/> collates
/// it (wrap the dataset with <see cref="TransformedDataset"/>; torchvision's <c>transforms</c>). Random transforms draw
/// from their own seeded <see cref="Generator"/>, in the order samples are collated, so a seeded loader over a seeded
/// transform gives the same augmented batches on every run. Transforms keep the image's shape.
/// </summary>
public abstract class ImageTransform
{
    /// <summary>Transforms <paramref name="image"/> (C·H·W values, row-major) in place.</summary>
    public abstract void Apply(Span<float> image, int channels, int height, int width);

    /// <summary>Applies the transform to every image of a (N, C, H, W) or (N, H, W) float32 tensor, returning a new tensor.</summary>
    public Tensor Apply(Tensor images)
    {
        if (images.DType != DType.Float32 || images.Rank is not (3 or 4))
            throw new ArgumentException($"{GetType().Name}: expected float32 images (N, C, H, W) or (N, H, W), got {Tensor.DTypeName(images.DType)} {images.ShapeString}.", nameof(images));
        var data = images.Detach().Contiguous().ToArray();
        int n = images.Size(0), c = images.Rank == 4 ? images.Size(1) : 1, h = images.Size(-2), w = images.Size(-1);
        for (int i = 0; i < n; i++) Apply(data.AsSpan(i * c * h * w, c * h * w), c, h, w);
        return Tensor.FromArray(data, images.Shape);
    }
}

/// <summary>Runs several transforms in order (torchvision's <c>Compose</c>).</summary>
public sealed class Compose(params ImageTransform[] transforms) : ImageTransform
{
    /// <summary>The transforms, in the order they run.</summary>
    public IReadOnlyList<ImageTransform> Transforms { get; } = transforms;

    /// <inheritdoc/>
    public override void Apply(Span<float> image, int channels, int height, int width)
    {
        foreach (var t in Transforms) t.Apply(image, channels, height, width);
    }
}

/// <summary>
/// Per-channel normalisation x[c] ← (x[c] − mean[c]) / std[c] (torchvision's <c>Normalize</c>). Fit the statistics on
/// the training images with <see cref="Fit"/> and apply the same to every split.
/// </summary>
public sealed class Normalize : ImageTransform
{
    /// <summary>Mean of each channel.</summary>
    public IReadOnlyList<double> Mean { get; }
    /// <summary>Standard deviation of each channel (all positive).</summary>
    public IReadOnlyList<double> Std { get; }

    /// <summary>Normalises with the given per-channel <paramref name="mean"/> and <paramref name="std"/> (same length).</summary>
    public Normalize(double[] mean, double[] std)
    {
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Normalize: mean and std need one value per channel and the same length, got {mean.Length} and {std.Length}.");
        if (std.Any(s => !(s > 0) || !double.IsFinite(s)))
            throw new ArgumentException($"Normalize: every std must be positive and finite, got [{string.Join(", ", std)}]; a constant channel cannot be standardised.", nameof(std));
        Mean = (double[])mean.Clone();
        Std = (double[])std.Clone();
    }

    /// <summary>
    /// The per-channel mean and population standard deviation of <paramref name="images"/> (N, C, H, W) — over images
    /// and pixels, as is usual for image data (fit on the training split only).
    /// </summary>
    public static Normalize Fit(Tensor images)
    {
        if (images.Rank != 4) throw new ArgumentException($"Normalize.Fit: expected images (N, C, H, W), got {images.ShapeString}.", nameof(images));
        var x = images.Detach().Contiguous().ToDoubleArray();
        int n = images.Size(0), c = images.Size(1), plane = images.Size(2) * images.Size(3);
        if (n * plane == 0) throw new ArgumentException($"Normalize.Fit: no pixels in {images.ShapeString}.", nameof(images));
        var mean = new double[c];
        var std = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0, s2 = 0;
            for (int i = 0; i < n; i++)
                for (int p = 0; p < plane; p++) s += x[(i * c + ch) * plane + p];
            double m = s / ((double)n * plane);
            for (int i = 0; i < n; i++)
                for (int p = 0; p < plane; p++) { double d = x[(i * c + ch) * plane + p] - m; s2 += d * d; }
            mean[ch] = m;
            std[ch] = Math.Sqrt(s2 / ((double)n * plane));
        }
        return new Normalize(mean, std);
    }

    /// <inheritdoc/>
    public override void Apply(Span<float> image, int channels, int height, int width)
    {
        if (channels != Mean.Count)
            throw new ArgumentException($"Normalize: statistics for {Mean.Count} channels applied to an image with {channels}.");
        int plane = height * width;
        for (int c = 0; c < channels; c++)
        {
            var s = image.Slice(c * plane, plane);
            float m = (float)Mean[c], inv = (float)(1 / Std[c]);
            System.Numerics.Tensors.TensorPrimitives.Subtract(s, m, s);
            System.Numerics.Tensors.TensorPrimitives.Multiply(s, inv, s);
        }
    }
}

/// <summary>
/// Random crop with zero padding (torchvision's <c>RandomCrop(size, padding)</c> with size = the image size): pads
/// every side by <see cref="Padding"/> pixels of <see cref="Fill"/>, then cuts an H×W window at a uniformly drawn
/// offset (0..2·padding in each direction) — a random shift of up to ±padding pixels.
/// </summary>
public sealed class RandomCrop : ImageTransform
{
    private readonly Generator _generator;
    private float[] _copy = [];

    /// <summary>Pixels of padding on each side (≥ 0; 4 is usual for 32×32, 2–4 for 28×28).</summary>
    public int Padding { get; }
    /// <summary>The value of padded pixels (default 0).</summary>
    public float Fill { get; }

    public RandomCrop(int padding, Generator? generator = null, float fill = 0)
    {
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "RandomCrop: padding must be non-negative.");
        Padding = padding;
        Fill = fill;
        _generator = generator ?? Generator.Default;
    }

    /// <inheritdoc/>
    public override void Apply(Span<float> image, int channels, int height, int width)
    {
        int dy = (int)_generator.NextInt64(2 * Padding + 1) - Padding, dx = (int)_generator.NextInt64(2 * Padding + 1) - Padding;
        if (dy == 0 && dx == 0) return;
        if (_copy.Length < image.Length) _copy = new float[image.Length];
        var src = _copy.AsSpan(0, image.Length);
        image.CopyTo(src);
        int plane = height * width;
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
            {
                var row = image.Slice(c * plane + y * width, width);
                int sy = y + dy;
                if ((uint)sy >= (uint)height) { row.Fill(Fill); continue; }
                for (int x = 0; x < width; x++)
                {
                    int sx = x + dx;
                    row[x] = (uint)sx < (uint)width ? src[c * plane + sy * width + sx] : Fill;
                }
            }
    }
}

/// <summary>Mirrors the image left–right with probability <see cref="P"/> (default 0.5; torchvision's <c>RandomHorizontalFlip</c>).</summary>
public sealed class RandomHorizontalFlip : ImageTransform
{
    private readonly Generator _generator;

    /// <summary>Probability of flipping.</summary>
    public double P { get; }

    public RandomHorizontalFlip(double p = 0.5, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "RandomHorizontalFlip: p must be in [0, 1].");
        P = p;
        _generator = generator ?? Generator.Default;
    }

    /// <inheritdoc/>
    public override void Apply(Span<float> image, int channels, int height, int width)
    {
        if (_generator.NextDouble() >= P) return;
        for (int r = 0; r < channels * height; r++) image.Slice(r * width, width).Reverse();
    }
}
