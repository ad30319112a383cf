package nenfhir.hapi;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.api.model.DeleteConflictList;
import ca.uhn.fhir.jpa.delete.DeleteConflictOutcome;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;

import javax.sql.DataSource;

/**
 * The test hooks, per tenant as {@link TestControls} sets them:
 * <ul>
 * <li>expire-page-at N / expire-page-every N: before the Nth (or every Nth)
 * request for a page of a stored search (GET {base}?_getpages=UUID...) that
 * search is deleted from HAPI's database, as HAPI's stale-search job does
 * once a search has expired; HAPI itself then answers the request (410 Gone,
 * HAPI-0417). Without it a search lives an hour, longer than any test.</li>
 * <li>delete-integrity false: the references to a resource being deleted
 * are not held against the delete (HAPI's default refuses it with 409).</li>
 * </ul>
 */
@Interceptor
public class TestHooks {
    private static final Logger LOG = LoggerFactory.getLogger(TestHooks.class);
    private final JdbcTemplate jdbc;
    private final TestControls controls;

    public TestHooks(DataSource dataSource, TestControls controls) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.controls = controls;
    }

    @Hook(Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED)
    public boolean beforeHandling(RequestDetails request) {
        String[] ids = request.getParameters().get("_getpages");
        if (ids == null || ids.length == 0) return true;
        String tenant = request.getTenantId();
        TestControls.Tenant t = controls.tenant(tenant);
        long n = t.pages.incrementAndGet();
        boolean expire = (t.expirePageAt > 0 && n == t.expirePageAt)
                || (t.expirePageEvery > 0 && n % t.expirePageEvery == 0);
        if (!expire) return true;
        String uuid = ids[0];
        String pid = "(SELECT PID FROM HFJ_SEARCH WHERE SEARCH_UUID = ?)";
        jdbc.update("DELETE FROM HFJ_SEARCH_RESULT WHERE SEARCH_PID IN " + pid, uuid);
        jdbc.update("DELETE FROM HFJ_SEARCH_INCLUDE WHERE SEARCH_PID IN " + pid, uuid);
        int rows = jdbc.update("DELETE FROM HFJ_SEARCH WHERE SEARCH_UUID = ?", uuid);
        LOG.info("test hook: tenant {} page request {}: search {} expired before its page request ({} row) /fhir/{}/",
                tenant == null ? "-" : tenant, n, uuid, rows, tenant == null ? "" : tenant);
        return true;
    }

    @Hook(Pointcut.STORAGE_PRESTORAGE_DELETE_CONFLICTS)
    public DeleteConflictOutcome deleteConflicts(DeleteConflictList conflicts, RequestDetails request) {
        String tenant = request == null ? null : request.getTenantId();
        if (controls.tenant(tenant).deleteIntegrity || conflicts.isEmpty()) return null;
        LOG.info("test hook: tenant {}: {} reference(s) not held against the delete /fhir/{}/",
                tenant == null ? "-" : tenant, conflicts.size(), tenant == null ? "" : tenant);
        conflicts.removeIf(c -> true);
        return null;
    }
}
