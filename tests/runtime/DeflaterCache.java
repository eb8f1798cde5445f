import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.Deflater;

/*
 * A server-like loop for vm.runtime: each "request" compresses 8K with a Deflater taken from a small LRU
 * cache, and an evicted Deflater is dropped without end(), a common bug. Each holds about 120K of zlib
 * memory outside the Java heap against a few hundred bytes in it; only a GC (then its Cleaner) frees it.
 * The evicted ones are old-generation garbage that grows the heap too little for the JVM to collect.
 * Usage: java DeflaterCache.java TOTAL CACHE-SIZE PAUSE-MS
 */
public class DeflaterCache {
    public static void main(String[] a) throws Exception {
        int total = Integer.parseInt(a[0]), cacheSize = Integer.parseInt(a[1]), pauseMs = Integer.parseInt(a[2]);
        Map<Integer, Deflater> cache = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, Deflater> e) {
                return size() > cacheSize;
            }
        };
        byte[] in = new byte[8192], out = new byte[16384];
        long bytes = 0;
        for (int i = 0; i < total; i++) {
            int k = (int) ((i * 7919L) % 100000);
            Deflater d = cache.get(k);
            if (d == null) {
                d = new Deflater();
                cache.put(k, d);
            }
            for (int j = 0; j < in.length; j++)
                in[j] = (byte) (i * 31 + j * (j % 7));
            d.setInput(in);
            bytes += d.deflate(out, 0, out.length, Deflater.SYNC_FLUSH);
            Thread.sleep(pauseMs); // requests arrive over time
        }
        System.out.println("done " + total + " compressed=" + bytes);
    }
}
