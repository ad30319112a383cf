package nenfhir.hapi;

import ca.uhn.fhir.jpa.entity.PartitionEntity;
import ca.uhn.fhir.jpa.partition.IPartitionLookupSvc;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runtime test controls, so that one server serves every test of a ctest run
 * (tests/hapi-server/README.md, "One server for the whole run").
 *
 * State: settings per tenant (the URL tenant of {@code /fhir/<tenant>/...}
 * with nenfhir.tenants=true; "" without tenants), read by {@link TestHooks}.
 *
 * HTTP (loopback peers only, else 403):
 * {@code POST /_test/tenant?name=T[&delete-integrity=false][&expire-page-at=N][&expire-page-every=N]}
 * creates HAPI partition T when tenants are on (idempotent) and sets T's
 * settings (unnamed ones back to their defaults); answers 200 with
 * {@code {"tenant":"T","partition":ID}}, 400 on a bad parameter.
 */
public class TestControls extends HttpServlet {
    private static final Logger LOG = LoggerFactory.getLogger(TestControls.class);

    /** One tenant's settings; defaults are HAPI's own behaviour. */
    public static final class Tenant {
        /** false: deleting a resource others refer to is allowed (HAPI's default: refused, 409) */
        public volatile boolean deleteIntegrity = true;
        /** > 0: the Nth page request (?_getpages=) of this tenant finds its search expired */
        public volatile long expirePageAt;
        /** > 0: every Nth page request of this tenant finds its search expired */
        public volatile long expirePageEvery;
        /** page requests seen for this tenant */
        public final AtomicLong pages = new AtomicLong();
    }

    private final ConcurrentHashMap<String, Tenant> tenants = new ConcurrentHashMap<>();
    private final IPartitionLookupSvc partitions; // null: tenants off
    private final AtomicLong nextPartition = new AtomicLong(1);

    /** partitions: HAPI's partition service when tenants are on, else null. */
    public TestControls(IPartitionLookupSvc partitions) {
        this.partitions = partitions;
    }

    /** The settings of tenant (null or "" = no tenant); never null. */
    public Tenant tenant(String name) {
        return tenants.computeIfAbsent(name == null ? "" : name, k -> new Tenant());
    }

    private static long number(HttpServletRequest req, String key) {
        String v = req.getParameter(key);
        if (v == null) return 0;
        long n = Long.parseLong(v);
        if (n < 0) throw new NumberFormatException(key + " < 0");
        return n;
    }

    private synchronized int ensurePartition(String name) {
        try {
            return partitions.getPartitionByName(name).getId();
        } catch (ResourceNotFoundException e) {
            PartitionEntity p = new PartitionEntity();
            p.setId((int) nextPartition.getAndIncrement());
            p.setName(name);
            p.setDescription("nenfhir test tenant " + name);
            return partitions.createPartition(p, new SystemRequestDetails()).getId();
        }
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        InetAddress peer = InetAddress.getByName(req.getRemoteAddr());
        if (!peer.isLoopbackAddress()) {
            resp.sendError(403, "test controls answer loopback peers only");
            return;
        }
        if (!"POST".equals(req.getMethod()) || !"/tenant".equals(req.getPathInfo())) {
            resp.sendError(404, "POST /_test/tenant?name=T[&delete-integrity=false][&expire-page-at=N][&expire-page-every=N]");
            return;
        }
        String name = req.getParameter("name");
        if (name == null || !name.matches("[A-Za-z0-9_-]{1,100}")) {
            resp.sendError(400, "name: 1 to 100 of [A-Za-z0-9_-]");
            return;
        }
        Tenant t = new Tenant();
        int partition = -1;
        try {
            String di = req.getParameter("delete-integrity");
            t.deleteIntegrity = di == null || !di.equals("false");
            t.expirePageAt = number(req, "expire-page-at");
            t.expirePageEvery = number(req, "expire-page-every");
            if (partitions != null) partition = ensurePartition(name);
        } catch (NumberFormatException e) {
            resp.sendError(400, "bad number: " + e.getMessage());
            return;
        }
        tenants.put(name, t);
        LOG.info("test tenant {}: partition {}, delete-integrity {}, expire-page-at {}, expire-page-every {}",
                name, partition, t.deleteIntegrity, t.expirePageAt, t.expirePageEvery);
        resp.setStatus(200);
        resp.setContentType("application/json");
        resp.getOutputStream().write(("{\"tenant\":\"" + name + "\",\"partition\":" + partition + "}\n")
                .getBytes(StandardCharsets.US_ASCII));
    }
}
