using Kindling;
using Kindling.Data;
using Kindling.Data.Text;
using Kindling.NN;
using Kindling.Optim;

// A character-level GPT on tiny-shakespeare (embedded), nanoGPT's CPU configuration: 4 layers, 4 heads, width 128,
// context 64, batch 12, AdamW (β₂ 0.99, weight decay 0.1 on ≥2-D weights only), warm-up then cosine, clip 1.0.
// Its loss is the cross-entropy of the text under the model: in bits per character, what the model needs to encode it.
//   dotnet run --project examples/CharGpt -c Release [steps]
int steps = args.Length > 0 ? int.Parse(args[0]) : 2000;
var (bits, ngramBits, sample) = CharGpt.Run(steps);
Console.WriteLine($"validation: {bits:F3} bits per character (an order-5 character n-gram model: {ngramBits:F3})");
Console.WriteLine(sample);

public static class CharGpt
{
    public static (double Bits, double NGramBits, string Sample) Run(int steps, int layers = 4, int width = 128, int context = 64, int batch = 12)
    {
        var text = Datasets.Shakespeare();
        var vocab = CharVocabulary.Fit(text[..(int)(text.Length * 0.9)]);            // fitted on the training text only
        var (train, val, _) = new TokenCorpus(vocab.Encode(text), vocab.VocabSize).Split(0.9);

        var g = new Generator(1337);
        var model = new GPT(new GPTConfig(vocab.VocabSize, context, layers, Heads: 4, Width: width), g);
        var ps = model.Parameters().ToList();
        var opt = new AdamW([new ParamGroup(ps.Where(p => p.Rank >= 2), weightDecay: 0.1), new ParamGroup(ps.Where(p => p.Rank < 2), weightDecay: 0)],
            lr: 1e-3, beta2: 0.99);
        int warmup = Math.Min(100, steps / 10);
        for (int step = 0; step < steps; step++)
        {
            // Linear warm-up, then cosine from 1e-3 down to 1e-4 at the last step (nanoGPT's get_lr).
            double lr = step < warmup ? 1e-3 * (step + 1) / (warmup + 1)
                : 1e-4 + 0.5 * (1 + Math.Cos(Math.PI * (step - warmup) / Math.Max(1, steps - 1 - warmup))) * (1e-3 - 1e-4);
            foreach (var group in opt.ParamGroups) group.Lr = lr;
            var (x, y) = train.Sample(batch, context, g);
            var logits = model.Forward(x);
            var loss = Functional.CrossEntropy(logits.Reshape(batch * context, vocab.VocabSize), y.Reshape(batch * context));
            opt.ZeroGrad();
            loss.Backward();
            GradClip.ClipGradNorm(ps, 1.0);
            opt.Step();
        }

        model.Eval();
        double nats = 0;
        long n = 0;
        using (Autograd.NoGrad())
            foreach (var (x, y) in val.Blocks(32, context))
            {
                int m = x.Size(0) * x.Size(1);
                nats += Functional.CrossEntropy(model.Forward(x).Reshape(m, vocab.VocabSize), y.Reshape(m), reduction: Reduction.Sum).ItemDouble();
                n += m;
            }
        double ngram = NGramModel.Fit(train, 5, 0.01).CrossEntropy(val);
        var generated = TextGeneration.Generate(model, vocab.Encode("\n"), 200, temperature: 0.8, generator: new Generator(7));
        return (nats / n / Math.Log(2), ngram / Math.Log(2), vocab.Decode(generated));
    }
}
